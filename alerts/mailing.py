"""
Emails to readers: the confirmation of a subscription, and alerts, one message per
subscriber per batch (immediate) or per day (digest). Every alert carries a one-click
unsubscribe link in its text and in the `List-Unsubscribe` headers (RFC 8058).

Sending claims the notifications first (their `sent_at`), so two runs never mail the same
ones; a failed send releases them, with the error, for the next run to try again.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from . import tokens
from .describing import absolute
from .models import Frequency, Notification, Subscription

logger = logging.getLogger(__name__)


def one_line(text):
    """A header on one line (a name with a line break would make Django refuse the message)."""
    return " ".join(text.split())


def target_name(subscription):
    target = subscription.target
    if subscription.question_id:
        return f"{target.title} · {target.topic.title}"
    return getattr(target, "name", None) or target.text


def send_confirmation(subscription):
    context = {
        "target": target_name(subscription),
        "target_url": absolute(subscription.target.get_absolute_url()),
        "confirm_url": tokens.confirm_url(subscription),
        "days": settings.ALERTS_CONFIRM_DAYS,
        "frequency": subscription.get_frequency_display().lower(),
    }
    EmailMessage(
        subject=one_line(f"Confirm your alerts on {context['target']}"),
        body=render_to_string("alerts/email/confirm.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscription.email],
    ).send()


def alert_message(subscription, items, *, digest):
    """The message for one subscriber: `items` are event descriptions, oldest first."""
    unsubscribe = tokens.unsubscribe_url(subscription)
    name = target_name(subscription)
    count = len(items)
    changes = f"{count} change{'s' if count != 1 else ''}"
    if digest:
        subject = f"Daily digest: {changes} on {name}"
    elif count == 1:
        subject = f"{items[0]['headline']} · {name}"
    else:
        subject = f"{changes} on {name}"
    context = {
        "target": name,
        "target_url": absolute(subscription.target.get_absolute_url()),
        "items": items,
        "changes": changes,
        "digest": digest,
        "on_question": subscription.question_id is not None,
        "frequency": subscription.get_frequency_display().lower(),
        "unsubscribe_url": unsubscribe,
    }
    return EmailMessage(
        subject=one_line(subject)[:200],
        body=render_to_string("alerts/email/alert.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscription.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )


def mail_notifications(subscription, notifications, described, *, digest):
    """Claim, send, and mark these notifications of one subscriber; True if mailed."""
    ids = [n.pk for n in notifications]
    stamp = timezone.now()
    claimed = Notification.objects.filter(pk__in=ids, sent_at__isnull=True).update(sent_at=stamp)
    if claimed != len(ids):  # another run has some of them: let it mail them all
        Notification.objects.filter(pk__in=ids, sent_at=stamp).update(sent_at=None)
        return False
    items = [described[n.event_id] for n in notifications if n.event_id in described]
    try:
        alert_message(subscription, items, digest=digest).send()
    except Exception as error:  # SMTP refusals, timeouts, a provider's API errors
        logger.warning("Alert to subscription %s not sent: %s", subscription.pk, error)
        Notification.objects.filter(pk__in=ids).update(
            sent_at=None, attempts=F("attempts") + 1, last_error=str(error)[:1000]
        )
        return False
    return True


def mail_pending(notifications, *, digest):
    """Group unsent notifications by subscriber and mail each group as one message."""
    from .describing import describe

    notifications = list(notifications)
    if not notifications:
        return 0
    described = describe([n.event for n in notifications])
    groups = {}
    for notification in notifications:
        groups.setdefault(notification.subscription_id, []).append(notification)
    sent = 0
    for group in groups.values():
        subscription = group[0].subscription
        sent += mail_notifications(subscription, group, described, digest=digest)
    return sent


def unsent(**filters):
    return (
        Notification.objects.filter(sent_at__isnull=True, **filters)
        .filter(subscription__confirmed_at__isnull=False)
        .select_related(
            "event",
            "subscription__question__topic",
            "subscription__actor",
            "subscription__condition",
        )
        .order_by("subscription_id", "event__created_at", "event_id")
    )


def send_batch(batch):
    """Mail the immediate subscribers of one batch: one message each."""
    return mail_pending(
        unsent(event__batch=batch, subscription__frequency=Frequency.IMMEDIATE), digest=False
    )


def send_digests():
    """One message per daily subscriber with everything owed since the last digest."""
    return mail_pending(unsent(subscription__frequency=Frequency.DAILY), digest=True)


def retry_unsent_immediate(older_than, max_attempts):
    """Immediate alerts whose send failed (or whose run died): try them again."""
    return mail_pending(
        unsent(
            subscription__frequency=Frequency.IMMEDIATE,
            created_at__lt=older_than,
            attempts__lt=max_attempts,
        ),
        digest=False,
    )


def expire_unconfirmed(now):
    """Forget subscriptions nobody confirmed in time (the address with them)."""
    cutoff = now - tokens.confirm_max_age()
    expired = Q(confirmation_sent_at__lt=cutoff) | Q(
        confirmation_sent_at__isnull=True, created_at__lt=cutoff
    )
    return Subscription.objects.unconfirmed().filter(expired).delete()[0]
