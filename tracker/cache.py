"""
The shared cache: Django's Redis backend, reusing one Redis client per connection pool.

Django's backend makes a new `redis.Redis` for every cache operation, and redis-py's
constructor builds its table of response callbacks (some 170 entries) each time: about
50 µs, a third of a cache read on loopback, six times over on a computed page. A client holds
no connection of its own (each command takes one from the pool and gives it back), so one
client per pool serves every operation of the process's cache as well.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # id of a pool in self._pools -> its client

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingClient
