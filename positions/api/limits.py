"""
The API's rate limit: at most `API_RATE_LIMIT` requests per `API_RATE_WINDOW` seconds from
one client address, counted in the shared cache (so every server process counts together).

A fixed window: a counter per address and window, created with `add` and raised with `incr`
(both atomic in Redis). Past the limit the API answers 429 with `Retry-After`, the seconds
left in the window. At a window's edge a client may fit in up to twice the limit; that is
the price of one cache round trip per request.
"""

import functools
import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse


def client_address(request):
    """
    The client's address: REMOTE_ADDR, or, behind `TRUSTED_PROXY_COUNT` proxies that each
    append to X-Forwarded-For, the address the outermost of them saw (as django-axes reads
    it). Trusting the header without proxies would let anyone pick a new address per request.
    """
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        addresses = [address.strip() for address in forwarded if address.strip()]
        if len(addresses) >= proxies:
            return addresses[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _key(address, window_number):
    digest = hashlib.sha256(address.encode()).hexdigest()[:24]
    return f"positions:api-rate:{digest}:{window_number}"


def over_limit(request):
    """None while the client is within the limit, else the seconds until it may ask again."""
    limit, window = settings.API_RATE_LIMIT, settings.API_RATE_WINDOW
    if limit <= 0:
        return None
    now = time.time()
    number = int(now // window)
    key = _key(client_address(request), number)
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count <= limit:
        return None
    return max(1, math.ceil((number + 1) * window - now))


def rate_limited(view):
    """A view that answers 429 with Retry-After past the client's limit (before any cache)."""

    @functools.wraps(view)
    def limited(request, *args, **kwargs):
        retry_after = over_limit(request)
        if retry_after is not None:
            response = JsonResponse(
                {
                    "detail": f"Too many requests: at most {settings.API_RATE_LIMIT} every "
                    f"{settings.API_RATE_WINDOW} seconds from one address. "
                    f"Try again in {retry_after} seconds."
                },
                status=429,
            )
            response["Retry-After"] = str(retry_after)
            return response
        return view(request, *args, **kwargs)

    return limited
