"""
The evidence: sources, conditions and their status history, statements and their
signatories, with the vocabularies of stance, date precision, attribution and status.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import Truncator
from simple_history.models import HistoricalRecords

from ..urlprefix import page_url
from .actors import Actor
from .base import (
    FieldRuleConstraint,
    TimestampedModel,
    choices_constraint,
    http_url_constraint,
    http_url_validator,
)
from .topics import Question

# --- Evidence ----------------------------------------------------------------------------


class SourceKind(models.TextChoices):
    NEWS_REPORT = "news_report", "News report"
    LETTER = "letter", "Letter"
    PRESS_RELEASE = "press_release", "Press release"
    OFFICIAL_STATEMENT = "official_statement", "Official statement"
    SPEECH = "speech", "Speech"
    TESTIMONY = "testimony", "Testimony"
    VOTE_RECORD = "vote_record", "Vote record"
    REPORT = "report", "Report"
    SOCIAL_MEDIA = "social_media", "Social-media post"
    OTHER = "other", "Other"


class SourceQuerySet(models.QuerySet):
    def public(self):
        """
        Sources a public statement cites: a source's title alone could reveal draft work.
        The others are kept in `HiddenSource` by the write path
        (`cited_by_no_public_statement` is the rule).
        """
        from .derived import HiddenSource

        return self.exclude(pk__in=HiddenSource.objects.values("source_id"))

    def public_count(self):
        """
        How many of these sources `public()` holds. Of every source, it is all of them less
        the hidden ones: two counts that join nothing (on a million statements 17-20 ms,
        against 29-33 ms for `public().count()`, which probes the hidden rows for each).
        """
        from .derived import HiddenSource

        if self.query.where:
            return self.public().count()
        return self.count() - HiddenSource.objects.count()

    def cited_by_no_public_statement(self):
        """These sources that no public statement cites: the rule `public()` reads from
        `HiddenSource`. Each source is looked up by its public statements (an index)."""
        cited = Statement.objects.public().filter(source=models.OuterRef("pk"))
        return self.exclude(models.Exists(cited))


class Source(TimestampedModel):
    title = models.CharField(max_length=500)
    publisher = models.CharField(
        max_length=300, blank=True, help_text="Leave blank if the document does not say."
    )
    kind = models.CharField(max_length=32, choices=SourceKind.choices)
    url = models.URLField(
        "URL",
        max_length=1000,
        blank=True,
        validators=[http_url_validator],
        help_text="Where readers can read the document (http or https). Leave blank only "
        "for a document that is not online; title, publisher and date then identify it.",
    )
    archive_url = models.URLField(
        "archive URL",
        max_length=1000,
        blank=True,
        validators=[http_url_validator],
        help_text="A copy in a web archive, in case the original moves.",
    )
    published_on = models.DateField(
        "publication date", null=True, blank=True, help_text="Blank if the document is undated."
    )
    history = HistoricalRecords()

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["-published_on", "title", "pk"]
        constraints = [
            choices_constraint("kind", SourceKind, "source_kind_valid"),
            http_url_constraint("url", "source_url_http"),
            # The URL is the natural key of an online source: one record per document.
            models.UniqueConstraint(fields=["url"], condition=~Q(url=""), name="source_url_unique"),
            http_url_constraint("archive_url", "source_archive_url_http"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return page_url("positions:source", self.pk)


class ConditionStatus(models.TextChoices):
    OPEN = "open", "Open"
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"


class ConditionQuerySet(models.QuerySet):
    def public(self):
        """Conditions a public statement names (like sources, unseen while only drafts do)."""
        named = Statement.conditions.through.objects.filter(
            statement__in=Statement.objects.public()
        )
        return self.filter(pk__in=named.values("condition_id"))


class Condition(TimestampedModel):
    """A named demand that conditional stances depend on, shared across statements."""

    text = models.CharField(
        max_length=300,
        help_text="The demand, as a short phrase: 'Human-rights safeguards in place before "
        "ratification'.",
    )
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=ConditionStatus.choices, default=ConditionStatus.OPEN
    )
    status_date = models.DateField(null=True, blank=True, help_text="When the status last changed.")
    status_note = models.TextField(
        blank=True, help_text="Why the status is what it is, with a reference."
    )
    # status, status_date and status_note: the latest `ConditionStatusChange`, copied there
    # by the write path when a change is saved (imports may still set them directly).
    history = HistoricalRecords()

    objects = ConditionQuerySet.as_manager()

    class Meta:
        ordering = ["text", "pk"]
        constraints = [choices_constraint("status", ConditionStatus, "condition_status_valid")]

    def __str__(self):
        return self.text

    def get_absolute_url(self):
        return page_url("positions:condition", self.slug)


class ConditionStatusChangeQuerySet(models.QuerySet):
    def as_of(self, date):
        """Changes dated on or before `date`, latest first: the first is the status then."""
        return self.filter(date__lte=date).order_by("-date", "-pk")


class ConditionStatusChange(TimestampedModel):
    """
    One dated change of a condition's status, kept so readers see the status as it stood on
    any day. The condition's own `status`, `status_date` and `status_note` are the latest
    change's, copied by the write path (`writes.condition_status_changed`) when one is saved.
    """

    condition = models.ForeignKey(
        Condition, on_delete=models.CASCADE, related_name="status_changes"
    )
    status = models.CharField(max_length=16, choices=ConditionStatus.choices)
    date = models.DateField(help_text="The day the status changed.")
    note = models.TextField(blank=True, help_text="Why the status changed, for readers.")
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="condition_status_changes",
        help_text="The document that shows the change, if any.",
    )
    history = HistoricalRecords()

    objects = ConditionStatusChangeQuerySet.as_manager()

    class Meta:
        ordering = ["date", "pk"]
        constraints = [
            choices_constraint("status", ConditionStatus, "condition_status_change_valid")
        ]
        indexes = [
            # The status as of a day: a condition's changes by date.
            models.Index(fields=["condition", "date"], name="condition_status_change_idx"),
        ]

    def __str__(self):
        return f"{self.get_status_display()} on {self.date:%Y-%m-%d}"


class Stance(models.TextChoices):
    """What an actor said about a question. "No known position" is the absence of statements."""

    SUPPORTS = "supports", "Supports"
    CONDITIONAL = "conditional", "Supports on conditions"
    OPPOSES = "opposes", "Opposes"
    UNDECIDED = "undecided", "Undecided"

    @property
    def definition(self):
        return STANCE_DEFINITIONS[self]


STANCE_DEFINITIONS = {
    Stance.SUPPORTS: "The actor wants the decision to go ahead as it stands.",
    Stance.CONDITIONAL: "The actor supports the decision only if the conditions it names are met.",
    Stance.OPPOSES: "The actor wants the decision not to go ahead.",
    Stance.UNDECIDED: "The actor has said it has not made up its mind.",
}


class DatePrecision(models.TextChoices):
    """How much of a statement's date the evidence gives; the date stores the first day."""

    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"

    def first_day(self, date):
        if self == DatePrecision.YEAR:
            return date.replace(month=1, day=1)
        if self == DatePrecision.MONTH:
            return date.replace(day=1)
        return date

    def format(self, date):
        if self == DatePrecision.YEAR:
            return f"{date:%Y}"
        if self == DatePrecision.MONTH:
            return f"{date:%B %Y}"
        return f"{date.day} {date:%B %Y}"


class Attribution(models.TextChoices):
    OWN_WORDS = "own_words", "The actor's own words"
    REPORTED = "reported", "Reported by others"


class StatementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETRACTED = "retracted", "Retracted"


PUBLIC_STATUSES = [StatementStatus.PUBLISHED, StatementStatus.RETRACTED]


class EditorialRecord(TimestampedModel):
    """
    A record that goes through the editorial workflow (`editorial.py`): drafts, publication,
    a final retraction with a note readers see. Statements and formal acts.
    """

    status = models.CharField(
        max_length=16, choices=StatementStatus.choices, default=StatementStatus.DRAFT
    )
    correction_note = models.TextField(
        blank=True, help_text="Required to retract: what was wrong, shown to readers."
    )
    first_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    retracted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_public(self):
        return self.status != StatementStatus.DRAFT

    @property
    def is_draft(self):
        return self.status == StatementStatus.DRAFT

    @property
    def is_retracted(self):
        return self.status == StatementStatus.RETRACTED

    def mark_status(self, status, user=None, note=""):
        """Move the record to `status`, stamping the dates readers see."""
        now = timezone.now()
        self.status = status
        if status == StatementStatus.PUBLISHED and self.first_published_at is None:
            self.first_published_at = now
        if status == StatementStatus.RETRACTED:
            self.retracted_at = now
            if note:
                self.correction_note = note
        if user is not None:  # a statement keeps who last changed it
            self.updated_by = user


class StatementQuerySet(models.QuerySet):
    def published(self):
        """Statements that count towards positions."""
        return self.filter(status=StatementStatus.PUBLISHED)

    def public(self):
        """Statements readers may see: published ones, and retracted ones shown as retracted."""
        return self.filter(status__in=PUBLIC_STATUSES)

    def drafts(self):
        return self.filter(status=StatementStatus.DRAFT)

    def on(self, question):
        return self.filter(question=question)

    def as_of(self, date):
        return self.filter(date__lte=date)

    def by(self, actor):
        return self.filter(signatures__actor=actor)


class Statement(EditorialRecord):
    """The unit of evidence: on a date, one or more actors took a stance on a question."""

    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="statements")
    actors = models.ManyToManyField(
        Actor, through="Signatory", related_name="statements", verbose_name="signatories"
    )
    date = models.DateField(help_text="The day the actors said it, not the day it was reported.")
    date_precision = models.CharField(
        max_length=8,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
        help_text="If the evidence gives only the month or the year, enter the first day of it "
        "and say so here; the statement then counts from that first day.",
    )
    stance = models.CharField(max_length=16, choices=Stance.choices)
    summary = models.TextField(
        help_text="What the actors said, in one or two neutral sentences of your own."
    )
    quote = models.TextField(blank=True, help_text="Verbatim words from the source, if any.")
    quote_locator = models.CharField(
        max_length=200, blank=True, help_text="Where the quote is: page, paragraph, timestamp."
    )
    attribution = models.CharField(
        max_length=16,
        choices=Attribution.choices,
        default=Attribution.OWN_WORDS,
        help_text="Whether the source gives the actors' own words, or others report them.",
    )
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="statements",
        help_text="Required before the statement can be published.",
    )
    conditions = models.ManyToManyField(
        Condition,
        blank=True,
        related_name="statements",
        help_text="For a conditional stance: the demands it depends on (at least one).",
    )
    import_ref = models.CharField(
        "import reference",
        max_length=100,
        blank=True,
        help_text="Stable key of this statement in imported spreadsheets.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    history = HistoricalRecords(m2m_fields=[conditions])

    objects = StatementQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        permissions = [
            ("publish_statement", "Can publish, unpublish and retract statements"),
        ]
        constraints = [
            choices_constraint("stance", Stance, "statement_stance_valid"),
            choices_constraint("status", StatementStatus, "statement_status_valid"),
            choices_constraint("attribution", Attribution, "statement_attribution_valid"),
            choices_constraint("date_precision", DatePrecision, "statement_date_precision_valid"),
            # These two are `clean()`'s rules, kept by the database too.
            FieldRuleConstraint(
                condition=Q(status=StatementStatus.DRAFT) | Q(source__isnull=False),
                name="statement_public_has_source",
                violation_error_message="A statement needs a source before it is published.",
            ),
            FieldRuleConstraint(
                condition=~Q(status=StatementStatus.RETRACTED) | ~Q(correction_note=""),
                name="statement_retraction_has_note",
                violation_error_message="A retraction needs a correction note for readers.",
            ),
            models.UniqueConstraint(
                fields=["import_ref"],
                condition=~Q(import_ref=""),
                name="statement_import_ref_unique",
            ),
        ]
        indexes = [
            # The board and the statement list: a question's published statements by date.
            # With the id and stance included, the position queries and tallies read them
            # from the index alone.
            models.Index(
                fields=["question", "status", "date"],
                include=["id", "stance"],
                name="statement_board_idx",
            ),
            # The admin statement list: newest first (its default order) without a sort.
            models.Index(fields=["-date", "-id"], name="statement_newest_idx"),
            models.Index(fields=["status", "-date"], name="statement_latest_idx"),
            # The Atom feeds' order has an index on PostgreSQL only (migration 0008).
            # The corrections page: retractions, latest first.
            models.Index(
                fields=["-retracted_at", "-id"],
                condition=Q(status=StatementStatus.RETRACTED),
                name="statement_retracted_idx",
            ),
            # Which sources and conditions are public (cited by a public statement).
            models.Index(
                fields=["source"],
                condition=Q(status__in=PUBLIC_STATUSES),
                name="statement_public_source_idx",
            ),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} · {self.get_stance_display()} · " + Truncator(
            self.summary
        ).chars(60)

    def get_absolute_url(self):
        return page_url("positions:statement", self.pk)

    @property
    def date_display(self):
        """The date as precisely as the evidence gives it: '29 October 2024', 'November 2024'."""
        return DatePrecision(self.date_precision).format(self.date)

    @staticmethod
    def conditions_error(stance, conditions):
        """The rule the database cannot check: a conditional stance names its conditions."""
        if stance == Stance.CONDITIONAL and not conditions:
            return "A conditional stance must name at least one condition it depends on."
        return None

    def clean(self):
        errors = {}
        if self.status != StatementStatus.DRAFT and self.source_id is None:
            errors["source"] = "A statement needs a source before it is published."
        if self.status == StatementStatus.RETRACTED and not self.correction_note.strip():
            errors["correction_note"] = "A retraction needs a correction note for readers."
        if self.date and self.date > timezone.localdate() + datetime.timedelta(days=1):
            errors["date"] = "The date of a statement cannot be in the future."
        elif self.date and self.date != DatePrecision(self.date_precision).first_day(self.date):
            errors["date"] = "A date known only to the month or year must be the first day of it."
        if errors:
            raise ValidationError(errors)


class Signatory(models.Model):
    """One actor behind a statement; a joint letter has several, one of them the lead."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="signatures")
    actor = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="signatures")
    order = models.PositiveSmallIntegerField(default=0)
    is_lead = models.BooleanField(
        "lead", default=False, help_text="The actor who led a joint statement (at most one)."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name_plural = "signatories"
        constraints = [
            models.UniqueConstraint(fields=["statement", "actor"], name="signatory_once"),
            models.UniqueConstraint(
                fields=["statement"], condition=Q(is_lead=True), name="signatory_one_lead"
            ),
        ]
        indexes = [
            models.Index(fields=["actor", "statement"], name="signatory_actor_idx"),
        ]

    def __str__(self):
        return f"{self.actor} ({'lead' if self.is_lead else 'signatory'})"
