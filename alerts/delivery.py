"""
The background worker's side of alerts (django-tasks, `manage.py db_worker`).

- `dispatch(batch)`, queued when a write commits (`outbox.record`): fans the batch's events
  out once, into a `Notification` per confirmed subscriber (confirmed before the event) and
  a `WebhookDelivery` per active webhook that follows one of them; then mails the immediate
  subscribers, one message each, and queues each webhook delivery.
- `deliver_webhook(id)`: one attempt; on a network error, a timeout or a non-2xx answer the
  next is scheduled after `ALERTS_WEBHOOK_RETRY_SECONDS`, doubling each time up to
  `ALERTS_WEBHOOK_MAX_DELAY`, until `ALERTS_WEBHOOK_MAX_ATTEMPTS`; every attempt is logged.
- `send_confirmation(id)`: the double opt-in message.
- `catch_up()`, at the start of every dispatch and of `manage.py send_digests`: expired
  unconfirmed subscriptions are forgotten, events whose dispatch was lost are dispatched,
  failed immediate emails and overdue webhook attempts are tried again.
"""

import datetime
import json
import logging
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import task, task_backends

from positions.models import Question, Statement

from . import mailing, webhooks
from .describing import describe
from .models import (
    DeliveryStatus,
    Event,
    EventKind,
    Follows,
    Notification,
    Subscription,
    Webhook,
    WebhookDelivery,
)

logger = logging.getLogger(__name__)

# Events not dispatched this long after their write were lost (a queue down at commit).
LOST_AFTER = datetime.timedelta(minutes=2)
MAIL_ATTEMPTS = 5


@task()
def dispatch(batch):
    catch_up()
    dispatch_now(batch)


def dispatch_now(batch):
    created = fan_out(batch)
    mailing.send_batch(batch)
    for delivery_id in created:
        deliver_webhook.enqueue(delivery_id)


@task()
def send_confirmation(subscription_id):
    subscription = (
        Subscription.objects.unconfirmed()
        .select_related("question__topic", "actor", "condition")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is not None:  # confirmed or cancelled meanwhile: nothing to ask
        mailing.send_confirmation(subscription)


@task()
def deliver_webhook(delivery_id):
    attempt(delivery_id)


# --- Fan-out ---------------------------------------------------------------------------------


def fan_out(batch):
    """Notifications and webhook deliveries for a batch, once; the new deliveries' ids."""
    with transaction.atomic():
        events = list(
            Event.objects.select_for_update()
            .filter(batch=batch, dispatched_at__isnull=True)
            .order_by("pk")
        )
        if not events:
            return []
        Notification.objects.bulk_create(
            [
                Notification(subscription_id=subscription_id, event_id=event.pk)
                for event, subscription_id in subscribers_of(events)
            ],
            ignore_conflicts=True,
        )
        deliveries = webhook_deliveries(batch, events)
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        Event.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=timezone.now())
    return list(
        WebhookDelivery.objects.filter(
            batch=batch, status=DeliveryStatus.PENDING, attempts=0
        ).values_list("pk", flat=True)
    )


def subscribers_of(events):
    """`(event, subscription id)` for every confirmed subscription an event concerns."""
    question_ids = {e.question_id for e in events if e.kind == EventKind.STANCE_CHANGED}
    actor_ids = {
        a for e in events if e.kind == EventKind.STATEMENT_PUBLISHED for a in e.data["actors"]
    }
    condition_ids = {e.condition_id for e in events if e.kind == EventKind.CONDITION_STATUS_CHANGED}
    by_target = defaultdict(list)
    for pk, question_id, actor_id, condition_id, confirmed_at in (
        Subscription.objects.confirmed()
        .filter(
            Q(question_id__in=question_ids)
            | Q(actor_id__in=actor_ids)
            | Q(condition_id__in=condition_ids)
        )
        .values_list("pk", "question_id", "actor_id", "condition_id", "confirmed_at")
    ):
        if question_id:
            by_target["question", question_id].append((pk, confirmed_at))
        elif actor_id:
            by_target["actor", actor_id].append((pk, confirmed_at))
        else:
            by_target["condition", condition_id].append((pk, confirmed_at))
    for event in events:
        if event.kind == EventKind.STANCE_CHANGED:
            targets = [("question", event.question_id)]
        elif event.kind == EventKind.STATEMENT_PUBLISHED:
            targets = [("actor", a) for a in event.data["actors"]]
        else:
            targets = [("condition", event.condition_id)]
        seen = set()
        for target in targets:
            for pk, confirmed_at in by_target[target]:
                # Confirmed after the change: a subscription hears only what follows it.
                if confirmed_at <= event.created_at and pk not in seen:
                    seen.add(pk)
                    yield event, pk


def webhook_deliveries(batch, events):
    """One unsaved `WebhookDelivery` per active webhook following some of these events."""
    hooks = list(Webhook.objects.filter(active=True))
    if not hooks:
        return []
    # Where each event belongs: its question and topic; a condition, those of the public
    # statements that name it.
    question_ids = {e.question_id for e in events if e.question_id}
    topic_of = dict(Question.objects.filter(pk__in=question_ids).values_list("pk", "topic_id"))
    condition_ids = {e.condition_id for e in events if e.condition_id}
    named_in = defaultdict(set)
    for condition_id, question_id, topic_id in (
        Statement.objects.public()
        .filter(conditions__in=condition_ids)
        .values_list("conditions", "question_id", "question__topic_id")
        .distinct()
    ):
        named_in[condition_id].add((question_id, topic_id))
    places = {}
    for event in events:
        if event.question_id:
            places[event.pk] = {(event.question_id, topic_of.get(event.question_id))}
        else:
            places[event.pk] = named_in[event.condition_id]
    described = describe(events)
    deliveries = []
    for hook in hooks:
        followed = [e for e in events if follows(hook, places[e.pk])]
        if followed:
            body = {
                "batch": str(batch),
                "site": settings.SITE_URL,
                "events": [described[e.pk] for e in followed],
            }
            deliveries.append(
                WebhookDelivery(
                    webhook=hook,
                    batch=batch,
                    body=json.dumps(body, ensure_ascii=False, sort_keys=True),
                    next_attempt_at=timezone.now(),
                )
            )
    return deliveries


def follows(hook, places):
    if hook.follows == Follows.ALL:
        return True
    if hook.follows == Follows.TOPIC:
        return any(topic_id == hook.topic_id for _q, topic_id in places)
    return any(question_id == hook.question_id for question_id, _t in places)


# --- Webhook attempts --------------------------------------------------------------------------


def retry_delay(attempts):
    """The wait after the `attempts`-th failed attempt: doubling, capped."""
    base = settings.ALERTS_WEBHOOK_RETRY_SECONDS
    return datetime.timedelta(
        seconds=min(base * 2 ** (attempts - 1), settings.ALERTS_WEBHOOK_MAX_DELAY)
    )


def attempt(delivery_id):
    """One attempt at a due delivery, logged on it; returns its status afterwards."""
    now = timezone.now()
    # Claim it: a lease past the timeout, so a second run (a retry task and a catch-up at
    # once) finds it not due and leaves it.
    lease = now + datetime.timedelta(seconds=settings.ALERTS_WEBHOOK_TIMEOUT * 3 + 5)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=lease, attempts=F("attempts") + 1, updated_at=now)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)
    hook = delivery.webhook
    if not hook.active:
        delivery.status, delivery.last_error = DeliveryStatus.FAILED, "The webhook is paused."
        delivery.next_attempt_at = None
        delivery.save(update_fields=["status", "last_error", "next_attempt_at", "updated_at"])
        return delivery.status
    status_code, error = webhooks.post(hook.url, hook.secret, delivery.body.encode(), delivery.pk)
    delivery.status_code, delivery.last_error = status_code, error
    if not error:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, timezone.now()
        delivery.next_attempt_at = None
    elif delivery.attempts >= settings.ALERTS_WEBHOOK_MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        logger.warning("Webhook delivery %s failed for good: %s", delivery.pk, error)
    else:
        delivery.next_attempt_at = timezone.now() + retry_delay(delivery.attempts)
    delivery.save(
        update_fields=[
            "status",
            "status_code",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "updated_at",
        ]
    )
    if delivery.status == DeliveryStatus.PENDING:
        schedule(delivery)
    return delivery.status


def schedule(delivery):
    """Queue the next attempt for its time; a backend that cannot wait leaves it to catch_up."""
    if task_backends[deliver_webhook.backend].supports_defer:
        deliver_webhook.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)


def retry_now(deliveries):
    """Staff's "retry now": pending again, due at once, queued."""
    ids = list(deliveries.values_list("pk", flat=True))
    WebhookDelivery.objects.filter(pk__in=ids).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), updated_at=timezone.now()
    )
    for pk in ids:
        deliver_webhook.enqueue(pk)
    return len(ids)


# --- Catching up -------------------------------------------------------------------------------


def catch_up():
    now = timezone.now()
    mailing.expire_unconfirmed(now)
    lost = (
        Event.objects.filter(dispatched_at__isnull=True, created_at__lt=now - LOST_AFTER)
        .values_list("batch", flat=True)
        .distinct()
    )
    for batch in list(lost):
        logger.warning("Alerts batch %s was not dispatched: dispatching it now", batch)
        dispatch_now(batch)
    mailing.retry_unsent_immediate(now - LOST_AFTER, MAIL_ATTEMPTS)
    overdue = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now - LOST_AFTER
    ).values_list("pk", flat=True)
    for delivery_id in list(overdue):
        attempt(delivery_id)
