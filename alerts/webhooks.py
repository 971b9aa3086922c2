"""
Sending one webhook delivery: a POST of its JSON body, signed with the webhook's secret.

Headers (docs/alerts.md shows how to verify them):

- `X-Tracker-Delivery`: the delivery's id, the same on every retry (to drop duplicates);
- `X-Tracker-Timestamp`: Unix seconds when this attempt was signed (to refuse replays);
- `X-Tracker-Signature`: `sha256=` and the hex HMAC-SHA256, keyed by the secret, of the
  timestamp, a dot, and the body's bytes.

Redirects are not followed (a receiver that moved is a failure to fix in the admin), and
proxies come from the environment as for any urllib client.
"""

import hashlib
import hmac
import time
import urllib.error
import urllib.request

from django.conf import settings

SIGNATURE_HEADER = "X-Tracker-Signature"
TIMESTAMP_HEADER = "X-Tracker-Timestamp"
DELIVERY_HEADER = "X-Tracker-Delivery"
USER_AGENT = "PositionTracker-Webhooks/1"


def signature(secret, timestamp, body):
    """`sha256=<hex>`: HMAC-SHA256 of `<timestamp>.<body>`, keyed by `secret`."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx status


_opener = urllib.request.build_opener(_NoRedirects)


def post(url, secret, body, delivery_id):
    """
    POST `body` (bytes) to `url`, signed now. Returns `(status code or None, error)`, the
    error empty for a 2xx answer.
    """
    timestamp = int(time.time())
    request = urllib.request.Request(  # noqa: S310 (the URL is validated as http or https)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            DELIVERY_HEADER: str(delivery_id),
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(secret, timestamp, body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.ALERTS_WEBHOOK_TIMEOUT) as response:
            response.read(1024)
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
        if 300 <= status < 400:
            return (
                status,
                f"HTTP {status}: redirected to {error.headers.get('Location')} (not followed)",
            )
        return status, f"HTTP {status} {error.reason}"
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, f"{type(error).__name__}: {reason}"[:1000]
    if 200 <= status < 300:
        return status, ""
    return status, f"HTTP {status}"
