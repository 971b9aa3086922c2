"""
The Redis cache backend (tracker/cache.py): Django's, with one Redis client per connection
pool instead of one per operation. Against the Redis server itself.
"""

import threading
import uuid

import pytest

from tracker.cache import RedisCache

from .test_caching import redis_is_up, redis_url

pytestmark = pytest.mark.skipif(
    not redis_is_up(), reason=f"Redis is not reachable at {redis_url()}"
)


@pytest.fixture
def shared_cache():
    cache = RedisCache(redis_url(), {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield cache
    # Not clear(): it empties the whole Redis database, other tests' keys included.
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(match=f"{cache.key_prefix}:*"):
        client.delete(key)


def test_operations_reuse_one_client_per_pool(shared_cache):
    client = shared_cache._cache.get_client()
    assert shared_cache._cache.get_client(write=True) is client  # one server: one pool
    shared_cache.set("a", 1)
    shared_cache.get("a")
    assert shared_cache._cache.get_client() is client
    assert len(shared_cache._cache._pools) == 1


def test_every_operation_still_reads_and_writes_the_server(shared_cache):
    shared_cache.set("page", "<p>ok</p>", timeout=60)
    assert shared_cache.get("page") == "<p>ok</p>"
    assert shared_cache.add("page", "other") is False
    assert shared_cache.add("lock", "mine", timeout=5) is True
    shared_cache.set_many({"x": [1, 2], "y": {"k": "v"}})
    assert shared_cache.get_many(["x", "y", "missing"]) == {"x": [1, 2], "y": {"k": "v"}}
    shared_cache.set("n", 1)
    assert shared_cache.incr("n", 2) == 3
    shared_cache.delete_many(["x", "y"])
    assert shared_cache.get("x") is None
    # Another process's cache (a new backend, its own clients) sees what this one wrote.
    other = RedisCache(redis_url(), {"KEY_PREFIX": shared_cache.key_prefix})
    assert other.get("page") == "<p>ok</p>"


def test_threads_share_the_client_without_mixing_replies(shared_cache):
    shared_cache.get("warm")  # the client exists before the threads start
    errors = []

    def work(number):
        for round_ in range(50):
            key = f"t{number}-{round_}"
            shared_cache.set(key, (number, round_))
            if shared_cache.get(key) != (number, round_):
                errors.append(key)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
