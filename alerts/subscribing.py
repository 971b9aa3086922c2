"""
A reader asks for alerts: the subscription is made (or found) and a confirmation is mailed,
at most once per `ALERTS_RESEND_MINUTES` per subscription, and at most
`ALERTS_SUBSCRIBE_LIMIT` requests an hour come from one client address. The reader is told
the same whatever the address's state, so the form reveals nobody's subscriptions.
"""

import datetime
import functools
import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from positions.api.limits import client_address

from .models import Subscription

SUBSCRIBE_WINDOW_SECONDS = 60 * 60


def over_limit(request):
    """True when this client address has asked too often this hour (counted in the cache)."""
    limit = settings.ALERTS_SUBSCRIBE_LIMIT
    if limit <= 0:
        return False
    window = int(time.time() // SUBSCRIBE_WINDOW_SECONDS)
    digest = hashlib.sha256(client_address(request).encode()).hexdigest()[:24]
    key = f"alerts:subscribe-rate:{digest}:{window}"
    cache.add(key, 0, timeout=SUBSCRIBE_WINDOW_SECONDS + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=SUBSCRIBE_WINDOW_SECONDS + 1)
        count = 1
    return count > limit


def normalize_email(address):
    return address.strip().lower()


def request_subscription(email, target_kind, target, frequency):
    """
    Make or find the subscription and queue its confirmation when one is due. Returns the
    subscription and whether a confirmation was queued.
    """
    from .delivery import send_confirmation

    email = normalize_email(email)
    now = timezone.now()
    lookup = {"email": email, target_kind: target}
    try:
        with transaction.atomic():
            subscription, created = Subscription.objects.select_for_update().get_or_create(
                **lookup, defaults={"frequency": frequency}
            )
    except IntegrityError:  # the same request twice at once: the other made it
        subscription, created = Subscription.objects.get(**lookup), False
    if subscription.confirmed_at is not None:
        return subscription, False  # already on: nothing to confirm, nothing to say
    resend_after = datetime.timedelta(minutes=settings.ALERTS_RESEND_MINUTES)
    sent = subscription.confirmation_sent_at
    if not created and sent is not None and now - sent < resend_after:
        return subscription, False  # the same request again soon: one email is enough
    queued = Subscription.objects.filter(pk=subscription.pk, confirmed_at__isnull=True)
    if not created:
        queued = queued.filter(confirmation_sent_at=sent)  # two requests at once: one email
    if not queued.update(confirmation_sent_at=now, frequency=frequency):
        return subscription, False
    transaction.on_commit(functools.partial(send_confirmation.enqueue, subscription.pk))
    return subscription, True


def confirm(subscription):
    """Turn a subscription on; True the first time."""
    return bool(
        Subscription.objects.filter(pk=subscription.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now()
        )
    )
