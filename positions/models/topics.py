"""
Topics and their questions, with the body that decides a question and its rule.
"""

import math

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from ..urlprefix import page_url
from .actors import Actor
from .base import FieldRuleConstraint, TimestampedModel

# --- Topics and questions --------------------------------------------------------------


class Topic(TimestampedModel):
    title = models.CharField(max_length=300, help_text="The instrument or policy tracked.")
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.TextField(blank=True, help_text="What it is, in a few sentences.")
    entry_into_force_count = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="For a treaty: how many ratifications (or acceptances, approvals, "
        "accessions, successions) bring it into force, e.g. 40. Blank: no rule shown.",
    )
    entry_into_force_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="How many days after that consent it enters into force, e.g. 90.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["title", "pk"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return page_url("positions:topic", self.slug)


class ThresholdKind(models.TextChoices):
    """
    How many votes a question's deciding body needs. A fraction of the members present (two
    thirds of the senators present and voting) is out of scope: attendance is not recorded,
    so enter the fraction of seats, the count at full attendance.
    """

    MAJORITY = "majority", "Simple majority of seats (more than half)"
    FRACTION = "fraction", "Fraction of seats (e.g. two thirds)"
    COUNT = "count", "A number of votes or ratifications (e.g. 40)"


class Question(TimestampedModel):
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="questions")
    title = models.CharField(
        max_length=300,
        help_text="The decision actors take positions on, e.g. "
        "'Ratification by the United States'.",
    )
    short_label = models.CharField(
        max_length=80, blank=True, help_text="A short name for tables and charts."
    )
    slug = models.SlugField(max_length=200, help_text="Unique within the topic.")
    description = models.TextField(blank=True)
    display_order = models.PositiveSmallIntegerField(
        default=0, help_text="Questions of a topic are listed from the lowest number."
    )
    deciding_body = models.ForeignKey(
        Actor,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="questions_decided",
        help_text="The organisation that takes the decision (the US Senate, the UN member "
        "states): its members on a date are its memberships on that date. The board then "
        "shows a whip count.",
    )
    threshold_kind = models.CharField(
        "rule",
        max_length=16,
        choices=ThresholdKind.choices,
        blank=True,
        help_text="How many of the body's votes the decision needs. Votes of the members "
        "present are not modelled: give the rule as a share of all seats.",
    )
    threshold_numerator = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For a fraction of seats: 2 in two thirds."
    )
    threshold_denominator = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="For a fraction of seats: 3 in two thirds."
    )
    threshold_count = models.PositiveIntegerField(
        null=True, blank=True, help_text="For a number: the votes or ratifications needed, e.g. 40."
    )
    seats = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="The number of seats of the body (100 for the US Senate), for a majority or a "
        "fraction of seats.",
    )
    history = HistoricalRecords()

    class Meta:
        # No join: pages and the admin that list questions by topic title say so.
        ordering = ["topic_id", "display_order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "slug"], name="question_slug_per_topic"),
            FieldRuleConstraint(
                condition=Q(threshold_kind="") | Q(threshold_kind__in=ThresholdKind.values),
                name="question_threshold_kind_valid",
            ),
            # `clean()`'s rules: each kind of rule has what it needs to give a number.
            FieldRuleConstraint(
                condition=Q(threshold_kind="") | Q(deciding_body__isnull=False),
                name="question_threshold_has_body",
            ),
            FieldRuleConstraint(
                # NULL > 0 is unknown, which a CHECK lets through: hence the isnull tests.
                condition=~Q(threshold_kind=ThresholdKind.MAJORITY)
                | Q(seats__isnull=False, seats__gt=0),
                name="question_majority_has_seats",
            ),
            FieldRuleConstraint(
                condition=~Q(threshold_kind=ThresholdKind.FRACTION)
                | Q(
                    seats__isnull=False,
                    threshold_numerator__isnull=False,
                    threshold_denominator__isnull=False,
                    seats__gt=0,
                    threshold_numerator__gt=0,
                    threshold_denominator__gte=F("threshold_numerator"),
                ),
                name="question_fraction_complete",
            ),
            FieldRuleConstraint(
                condition=~Q(threshold_kind=ThresholdKind.COUNT)
                | Q(threshold_count__isnull=False, threshold_count__gt=0),
                name="question_count_positive",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return page_url("positions:question", self.topic.slug, self.slug)

    @property
    def label(self):
        return self.label_of(self.title, self.short_label)

    @staticmethod
    def label_of(title, short_label):
        """What menus and headings call a question: its short label if it has one."""
        return short_label or title

    def threshold(self):
        """
        The votes the decision needs, or None without a rule. A fraction of seats rounds up
        ("at least two thirds": 2/3 of 100 is 66.67, so 67); a simple majority is more than
        half, floor(seats / 2) + 1 (51 of 100, 51 of 101); a count is itself.
        """
        if self.threshold_kind == ThresholdKind.MAJORITY:
            return self.seats // 2 + 1
        if self.threshold_kind == ThresholdKind.FRACTION:
            return math.ceil(self.seats * self.threshold_numerator / self.threshold_denominator)
        if self.threshold_kind == ThresholdKind.COUNT:
            return self.threshold_count
        return None

    @property
    def threshold_description(self):
        """The rule in words: 'two thirds of 100 seats', 'more than half of 100 seats'."""
        if self.threshold_kind == ThresholdKind.MAJORITY:
            return f"more than half of {self.seats} seats"
        if self.threshold_kind == ThresholdKind.FRACTION:
            return f"{self.threshold_numerator}/{self.threshold_denominator} of {self.seats} seats"
        if self.threshold_kind == ThresholdKind.COUNT:
            return f"{self.threshold_count} votes"
        return ""

    def clean(self):
        errors = {}
        kind = self.threshold_kind
        if kind and self.deciding_body_id is None:
            errors["deciding_body"] = "A rule needs the body that decides."
        if kind in {ThresholdKind.MAJORITY, ThresholdKind.FRACTION} and not self.seats:
            errors["seats"] = "Give the number of seats the rule counts from."
        if kind == ThresholdKind.FRACTION:
            numerator, denominator = self.threshold_numerator, self.threshold_denominator
            if not numerator or not denominator:
                errors["threshold_numerator"] = "A fraction needs a numerator and a denominator."
            elif numerator > denominator:
                errors["threshold_numerator"] = "A share of seats cannot be more than all of them."
        if kind == ThresholdKind.COUNT and not self.threshold_count:
            errors["threshold_count"] = "Give the number of votes needed."
        if errors:
            raise ValidationError(errors)
