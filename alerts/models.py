"""
Alerts: readers' email subscriptions, integrators' webhooks, and the outbox between the write
path and the background worker (see docs/alerts.md).

    write session ends --(writes.WRITE_OBSERVERS: outbox.record, same transaction)--> Event
    commit --(on_commit)--> delivery.dispatch (worker) --> Notification per subscriber,
                                                          WebhookDelivery per webhook
    Notification --> one email per subscriber and batch (immediate) or per day (digest)
    WebhookDelivery --> signed POST, retried with backoff, logged

None of this is the record: the write path does not watch these tables.
"""

import secrets

from django.db import models
from django.db.models import Q

from positions.models import Actor, Condition, Question, Statement, Topic
from positions.models.base import choices_constraint, http_url_constraint, http_url_validator


def new_key():
    return secrets.token_urlsafe(16)


def new_secret():
    return secrets.token_hex(32)


class Frequency(models.TextChoices):
    IMMEDIATE = "immediate", "As it happens"
    DAILY = "daily", "A daily digest"


class SubscriptionQuerySet(models.QuerySet):
    def confirmed(self):
        return self.filter(confirmed_at__isnull=False)

    def unconfirmed(self):
        return self.filter(confirmed_at__isnull=True)


class Subscription(models.Model):
    """
    A reader's email subscription to one question, actor or condition. It counts only once
    confirmed (double opt-in); unconfirmed ones expire after `ALERTS_CONFIRM_DAYS`, and
    unsubscribing deletes the row, address and all. Addresses are stored lower-cased, so one
    address subscribes once per record.
    """

    email = models.EmailField(max_length=254)
    question = models.ForeignKey(
        Question, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        Actor, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    condition = models.ForeignKey(
        Condition, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.IMMEDIATE
    )
    # In every link we mail (signed): a row deleted and made again gets a new one, so an old
    # link never acts on a new subscription.
    key = models.CharField(max_length=32, default=new_key, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = SubscriptionQuerySet.as_manager()

    TARGETS = ("question", "actor", "condition")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            choices_constraint("frequency", Frequency, "subscription_frequency_valid"),
            models.CheckConstraint(
                condition=Q(question__isnull=False, actor__isnull=True, condition__isnull=True)
                | Q(question__isnull=True, actor__isnull=False, condition__isnull=True)
                | Q(question__isnull=True, actor__isnull=True, condition__isnull=False),
                name="subscription_one_target",
            ),
            models.UniqueConstraint(
                fields=["email", "question"],
                condition=Q(question__isnull=False),
                name="subscription_question_once",
            ),
            models.UniqueConstraint(
                fields=["email", "actor"],
                condition=Q(actor__isnull=False),
                name="subscription_actor_once",
            ),
            models.UniqueConstraint(
                fields=["email", "condition"],
                condition=Q(condition__isnull=False),
                name="subscription_condition_once",
            ),
        ]

    def __str__(self):
        return f"{mask_email(self.email)} on {self.target}"

    @property
    def target(self):
        return self.question or self.actor or self.condition

    @property
    def target_kind(self):
        for name in self.TARGETS:
            if getattr(self, f"{name}_id") is not None:
                return name
        return None


def mask_email(email):
    """What staff see of an address: its first letter and its domain (`j•••@example.org`)."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


class EventKind(models.TextChoices):
    STANCE_CHANGED = "stance_changed", "Stance changed"
    STATEMENT_PUBLISHED = "statement_published", "Statement published"
    CONDITION_STATUS_CHANGED = "condition_status_changed", "Condition status changed"


class Event(models.Model):
    """
    The outbox: one thing readers saw change, recorded by the write path in the write's own
    transaction (`outbox.record`), so an event exists exactly when its write committed. The
    worker fans each batch (one write session) out to subscribers and webhooks once.
    """

    batch = models.UUIDField(help_text="The write session that moved it.")
    kind = models.CharField(max_length=32, choices=EventKind.choices)
    question = models.ForeignKey(
        Question, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    actor = models.ForeignKey(
        Actor, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    statement = models.ForeignKey(
        Statement, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    condition = models.ForeignKey(
        Condition, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # Stances or statuses before and after, the previous deciding statement, the signatories.
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [choices_constraint("kind", EventKind, "event_kind_valid")]
        indexes = [
            models.Index(fields=["batch"], name="event_batch_idx"),
            # The catch-up: events whose dispatch was lost.
            models.Index(
                fields=["created_at"],
                condition=Q(dispatched_at__isnull=True),
                name="event_undispatched_idx",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class Notification(models.Model):
    """An event owed to one subscriber: mailed with its batch, or in the next digest."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="notifications")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="notification_once")
        ]
        indexes = [
            models.Index(
                fields=["subscription"],
                condition=Q(sent_at__isnull=True),
                name="notification_unsent_idx",
            )
        ]

    def __str__(self):
        return f"{self.event} for subscription {self.subscription_id}"


class Follows(models.TextChoices):
    ALL = "all", "Everything"
    TOPIC = "topic", "One topic"
    QUESTION = "question", "One question"


class Webhook(models.Model):
    """An integrator's endpoint: every batch of events it follows is POSTed there, signed."""

    name = models.CharField(max_length=200, help_text="Who receives it, for staff.")
    url = models.URLField(
        "URL",
        max_length=1000,
        validators=[http_url_validator],
        help_text="Where the events are POSTed (http or https).",
    )
    secret = models.CharField(
        max_length=200,
        default=new_secret,
        help_text="Shared with the integrator: every delivery is signed with it "
        "(HMAC-SHA256, see docs/alerts.md). Change it to revoke old copies.",
    )
    follows = models.CharField(max_length=10, choices=Follows.choices, default=Follows.ALL)
    topic = models.ForeignKey(
        Topic,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="With “One topic”: the topic.",
    )
    question = models.ForeignKey(
        Question,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="With “One question”: the question.",
    )
    active = models.BooleanField(default=True, help_text="Untick to pause deliveries.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            choices_constraint("follows", Follows, "webhook_follows_valid"),
            http_url_constraint("url", "webhook_url_http"),
            models.CheckConstraint(
                condition=Q(follows=Follows.ALL, topic__isnull=True, question__isnull=True)
                | Q(follows=Follows.TOPIC, topic__isnull=False, question__isnull=True)
                | Q(follows=Follows.QUESTION, topic__isnull=True, question__isnull=False),
                name="webhook_follows_target",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.follows == Follows.TOPIC and self.topic_id is None:
            raise ValidationError({"topic": "Choose the topic this webhook follows."})
        if self.follows == Follows.QUESTION and self.question_id is None:
            raise ValidationError({"question": "Choose the question this webhook follows."})
        # What it does not follow is cleared, so the choice alone decides.
        if self.follows != Follows.TOPIC:
            self.topic = None
        if self.follows != Follows.QUESTION:
            self.question = None


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class WebhookDelivery(models.Model):
    """One batch of events for one webhook: its body, and every attempt's outcome."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    batch = models.UUIDField()
    body = models.TextField(help_text="The JSON sent, the same bytes on every attempt.")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The receiver's last HTTP status."
    )
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            choices_constraint("status", DeliveryStatus, "webhook_delivery_status_valid"),
            models.UniqueConstraint(fields=["webhook", "batch"], name="webhook_delivery_once"),
        ]
        indexes = [
            # The catch-up: pending deliveries that are due.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_delivery_due_idx",
            )
        ]

    def __str__(self):
        return f"{self.webhook} · {self.created_at:%Y-%m-%d %H:%M} · {self.get_status_display()}"
