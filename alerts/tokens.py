"""
The signed links we mail: confirm a subscription (expires with it), unsubscribe (never
expires: it must work from an old message). Each names the subscription and its `key`, so a
link never acts on a later subscription that happens to reuse the address.
"""

import datetime

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Subscription

CONFIRM_SALT = "alerts.confirm"
UNSUBSCRIBE_SALT = "alerts.unsubscribe"
MAX_TOKEN_LENGTH = 200


class BadLink(Exception):
    """A link that is not ours, incomplete, or expired: `str()` is the message for readers."""


def _value(subscription):
    return f"{subscription.pk}.{subscription.key}"


def confirm_token(subscription):
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign(_value(subscription))


def unsubscribe_token(subscription):
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(_value(subscription))


def confirm_url(subscription):
    return settings.SITE_URL + reverse("alerts:confirm", args=[confirm_token(subscription)])


def unsubscribe_url(subscription):
    return settings.SITE_URL + reverse("alerts:unsubscribe", args=[unsubscribe_token(subscription)])


def confirm_max_age():
    return datetime.timedelta(days=settings.ALERTS_CONFIRM_DAYS)


def _subscription(value):
    pk, _, key = value.partition(".")
    if not pk.isdigit() or not key:
        raise BadLink("This link is not valid.")
    return (
        Subscription.objects.filter(pk=int(pk), key=key)
        .select_related("question__topic", "actor", "condition")
        .first()
    )


def subscription_to_confirm(token):
    """The subscription a confirmation link names, or BadLink saying why not."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise BadLink("This confirmation link is not valid.")
    signer = signing.TimestampSigner(salt=CONFIRM_SALT)
    try:
        value = signer.unsign(token, max_age=confirm_max_age())
    except signing.SignatureExpired:
        raise BadLink(
            "This confirmation link has expired. Subscribe again to get a new one."
        ) from None
    except signing.BadSignature:
        raise BadLink(
            "This confirmation link is not valid: it may have been cut short. Copy the whole "
            "address from the email, or subscribe again."
        ) from None
    subscription = _subscription(value)
    if subscription is None:
        raise BadLink(
            "This subscription no longer exists (it expired or was cancelled). Subscribe again."
        )
    return subscription


def subscription_to_cancel(token):
    """The subscription an unsubscribe link names; None if it is already gone."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise BadLink("This unsubscribe link is not valid.")
    try:
        value = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature:
        raise BadLink(
            "This unsubscribe link is not valid: it may have been cut short. Copy the whole "
            "address from the email."
        ) from None
    return _subscription(value)
