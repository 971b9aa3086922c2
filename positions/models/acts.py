"""
Formal acts: what a state does on a topic, beside what it says.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ..urlprefix import page_url
from .actors import Actor
from .base import FieldRuleConstraint, choices_constraint
from .evidence import PUBLIC_STATUSES, DatePrecision, EditorialRecord, Source, StatementStatus
from .topics import Topic

# --- Formal acts --------------------------------------------------------------------------


class ActKind(models.TextChoices):
    """A formal step of a party on a treaty, in the words of the depositaries' status tables."""

    SIGNATURE = "signature", "Signature"
    RATIFICATION = "ratification", "Ratification"
    ACCEPTANCE = "acceptance", "Acceptance"
    APPROVAL = "approval", "Approval"
    ACCESSION = "accession", "Accession"
    SUCCESSION = "succession", "Succession"
    ENTRY_INTO_FORCE = "entry_into_force", "Entry into force for the party"
    DECLARATION = "declaration", "Declaration"
    RESERVATION = "reservation", "Reservation"
    OBJECTION = "objection", "Objection to a reservation"
    RESERVATION_WITHDRAWAL = "reservation_withdrawal", "Withdrawal of a reservation"
    DENUNCIATION = "denunciation", "Denunciation or withdrawal"

    @property
    def is_consent(self):
        """Consent to be bound: what makes a signatory a party, and counts for entry into force."""
        return self in CONSENT_KINDS

    @property
    def needs_text(self):
        return self in TEXT_KINDS


CONSENT_KINDS = frozenset(
    {
        ActKind.RATIFICATION,
        ActKind.ACCEPTANCE,
        ActKind.APPROVAL,
        ActKind.ACCESSION,
        ActKind.SUCCESSION,
    }
)
# The acts whose words are the act: a reservation, a declaration, an objection.
TEXT_KINDS = frozenset({ActKind.RESERVATION, ActKind.DECLARATION, ActKind.OBJECTION})


class FormalActQuerySet(models.QuerySet):
    def published(self):
        """Acts that count in status tables, boards and maps."""
        return self.filter(status=StatementStatus.PUBLISHED)

    def public(self):
        """Acts readers may see: published ones, and retracted ones shown as retracted."""
        return self.filter(status__in=PUBLIC_STATUSES)

    def on(self, topic):
        return self.filter(topic=topic)

    def as_of(self, date):
        return self.filter(date__lte=date)


class FormalAct(EditorialRecord):
    """
    A dated, sourced formal step of an actor on a topic: what a state does, beside what it
    says. The editorial workflow is the statements' (`editorial.py`): drafts, Publishers
    publish, a retraction is final and keeps a correction note.
    """

    actor = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="formal_acts")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="formal_acts")
    kind = models.CharField(max_length=32, choices=ActKind.choices)
    date = models.DateField(help_text="The day of the act (of deposit, for an instrument).")
    place = models.CharField(max_length=200, blank=True, help_text="Where it was signed, if known.")
    depositary_reference = models.CharField(
        max_length=200,
        blank=True,
        help_text="The depositary's reference, e.g. a depositary notification number.",
    )
    text = models.TextField(
        blank=True,
        help_text="The words of a reservation, declaration or objection (required for them).",
    )
    regarding = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="responses",
        help_text="For an objection, the reservation objected to; for a withdrawal of a "
        "reservation, the one withdrawn (blank: every reservation of the party until then).",
    )
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="formal_acts",
        help_text="Required before the act can be published.",
    )
    history = HistoricalRecords()

    objects = FormalActQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = "formal act"
        constraints = [
            choices_constraint("kind", ActKind, "formal_act_kind_valid"),
            choices_constraint("status", StatementStatus, "formal_act_status_valid"),
            # `clean()`'s rules, kept by the database too.
            FieldRuleConstraint(
                condition=Q(status=StatementStatus.DRAFT) | Q(source__isnull=False),
                name="formal_act_public_has_source",
                violation_error_message="An act needs a source before it is published.",
            ),
            FieldRuleConstraint(
                condition=~Q(status=StatementStatus.RETRACTED) | ~Q(correction_note=""),
                name="formal_act_retraction_has_note",
                violation_error_message="A retraction needs a correction note for readers.",
            ),
            FieldRuleConstraint(
                condition=~Q(kind__in=sorted(TEXT_KINDS)) | ~Q(text=""),
                name="formal_act_text_where_needed",
                violation_error_message="A reservation, declaration or objection needs its text.",
            ),
        ]
        indexes = [
            # The status table, the board's marks and the map: a topic's published acts.
            models.Index(fields=["topic", "status", "date"], name="formal_act_topic_idx"),
            # An actor's timeline.
            models.Index(fields=["actor", "date"], name="formal_act_actor_idx"),
        ]

    def __str__(self):
        return f"{self.actor} · {self.get_kind_display()} · {self.date:%Y-%m-%d}"

    def get_absolute_url(self):
        # The status table of its topic (its row carries `id="act-<pk>"` for a fragment link).
        return page_url("positions:topic_status", self.topic.slug)

    @property
    def date_display(self):
        return DatePrecision.DAY.format(self.date)

    def clean(self):
        errors = {}
        if self.status != StatementStatus.DRAFT and self.source_id is None:
            errors["source"] = "An act needs a source before it is published."
        if self.status == StatementStatus.RETRACTED and not self.correction_note.strip():
            errors["correction_note"] = "A retraction needs a correction note for readers."
        if self.kind in TEXT_KINDS and not self.text.strip():
            errors["text"] = "A reservation, declaration or objection needs its text."
        if self.date and self.date > timezone.localdate() + datetime.timedelta(days=1):
            errors["date"] = "The date of an act cannot be in the future."
        if self.regarding_id is not None:
            if self.kind not in (ActKind.OBJECTION, ActKind.RESERVATION_WITHDRAWAL):
                errors["regarding"] = "Only an objection or a withdrawal refers to another act."
            elif self.regarding_id == self.pk:
                errors["regarding"] = "An act cannot refer to itself."
            elif self.regarding.kind != ActKind.RESERVATION or (
                self.regarding.topic_id != self.topic_id
            ):
                errors["regarding"] = "Choose a reservation made on the same topic."
        if errors:
            raise ValidationError(errors)
