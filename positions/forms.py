"""
Forms: the editors' admin (the editorial rules they enforce live in `editorial.py`) and the
board's controls.
"""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils import timezone

from . import editorial, writes
from .filters import (
    FastDateInput,
    FastHiddenInput,
    FastSelect,
    FastTextInput,
    ReadyChoices,
    country_choices,
)
from .institutions import UNKNOWN, WHIP_LABELS
from .models import ActorKind, Stance, Statement, StatementStatus

STATUS_HELP_PUBLISHER = (
    "Drafts are not public. Publishing makes the statement count towards positions; "
    "unpublishing takes it back to draft; retracting keeps it public as retracted, with the "
    "correction note, and is final."
)
STATUS_HELP_EDITOR = (
    "Drafts are not public. Only a Publisher can publish it: save your draft and it appears "
    "under 'Waiting for review'. Once published, only a Publisher can change it."
)


# What the statement form reads of the stored row: the status the rules start from, the
# stamps a revert must not take back, and what the write path compares (writes.save).
STORED_FIELDS = (
    "status",
    "created_by_id",
    "first_published_at",
    "retracted_at",
    *writes.WATCHED_FIELDS[Statement],
)


class StatementAdminForm(forms.ModelForm):
    # The user filling in the form; the admin sets it on the class it builds per request.
    editor = None

    class Meta:
        model = Statement
        fields = [
            "question",
            "date",
            "date_precision",
            "stance",
            "conditions",
            "summary",
            "quote",
            "quote_locator",
            "attribution",
            "source",
            "status",
            "correction_note",
            "import_ref",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The row saved in the database, not the instance's: reverting to an old version
        # starts from that version, and the rules apply to the move from what is stored now.
        # The save reads the same row for the stamps it keeps and what the write path compares.
        self.stored = None
        if not self.instance._state.adding and self.instance.pk is not None:
            self.stored = (
                Statement.objects.filter(pk=self.instance.pk).values(*STORED_FIELDS).first()
            )
        self.stored_status = self.stored["status"] if self.stored else None
        status = self.fields.get("status")
        if status is not None:
            allowed = editorial.allowed_statuses(self.editor, self.stored_status)
            status.choices = [c for c in StatementStatus.choices if c[0] in allowed]
            if editorial.can_publish(self.editor):
                status.help_text = STATUS_HELP_PUBLISHER
            else:
                status.help_text = STATUS_HELP_EDITOR
                status.error_messages["invalid_choice"] = editorial.ONLY_PUBLISHERS

    def clean(self):
        cleaned = super().clean()
        if self.stored_status and not editorial.may_edit(self.editor, self.stored_status):
            raise ValidationError(editorial.locked_message(self.stored_status))
        if "stance" in cleaned and "conditions" in cleaned:
            error = Statement.conditions_error(cleaned["stance"], cleaned["conditions"])
            if error:
                self.add_error("conditions", error)
        if cleaned.get("status"):
            error = editorial.transition_error(self.editor, self.stored_status, cleaned["status"])
            if error:
                self.add_error("status", error)
        return cleaned


class SignatoryFormSet(BaseInlineFormSet):
    """
    The signatories of one statement: at least one, at most one of them the lead, in the
    order of the rows (each row's `order` is its position among the rows kept, on save).
    """

    def kept_forms(self):
        """The rows that stay, in the order of the page."""
        return [
            form
            for form in self.forms
            if form.has_changed() or form.instance.pk is not None
            if not (self.can_delete and self._should_delete_form(form))
        ]

    def save(self, commit=True):
        # New rows get their position before they are saved; saved rows whose position moved
        # (a row above was removed, or the order was typed by hand before) are saved with it
        # and reported as changed, so that the write path records them.
        moved = []
        for position, form in enumerate(self.kept_forms()):
            if form.instance.order != position:
                form.instance.order = position
                if form.instance.pk is not None and not form.has_changed():
                    moved.append(form.instance)
        saved = super().save(commit)
        if commit:
            for signatory in moved:
                signatory.save(update_fields=["order"])
                self.changed_objects.append((signatory, ["order"]))
        return saved

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if not kept:
            raise ValidationError("A statement needs at least one signatory.")
        if sum(1 for data in kept if data.get("is_lead")) > 1:
            raise ValidationError(
                "Only one signatory can be the lead of a joint statement: untick the others."
            )


class RetractForm(forms.Form):
    """The intermediate page of the retract action asks for what readers will be told."""

    correction_note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        help_text="What was wrong, in a sentence or two. Readers see it on each retracted "
        "statement, with the date of the retraction.",
    )

    def clean_correction_note(self):
        note = self.cleaned_data["correction_note"].strip()
        if not note:
            raise ValidationError("Write the correction note readers will see.")
        return note


# --- The public board ---


class AsOfForm(forms.Form):
    """The board's own controls: actor filters (safe to chain, see current_positions) and a date."""

    kind = forms.ChoiceField(
        label="Actor kind",
        choices=[("", "Any kind"), *ActorKind.choices],
        required=False,
        widget=FastSelect,
    )
    country = forms.ChoiceField(label="Country", required=False, widget=FastSelect)
    stance = forms.ChoiceField(
        label="Stance",
        choices=[("", "Every stance"), *Stance.choices],
        required=False,
        widget=FastSelect,
    )
    as_of = forms.DateField(
        label="As of",
        required=False,
        widget=FastDateInput,
        help_text="Show the board as it stood at the end of that day.",
    )

    # Kept from the split by group (`groups.py` checks them against the board's groups).
    split = forms.CharField(label="Split by", required=False, max_length=20, widget=FastHiddenInput)
    group = forms.CharField(label="Group", required=False, max_length=200, widget=FastHiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = ReadyChoices([("", "Any country"), *country_choices()])

    def clean_as_of(self):
        day = self.cleaned_data["as_of"]
        error = as_of_error(day) if day else None
        if error:
            raise forms.ValidationError(f"{error} Showing today instead.")
        return day


def as_of_error(day):
    """Why `day` cannot be a board's "as of" date (the board page and its downloads)."""
    if day > timezone.localdate():
        return "That date is in the future."
    if day < datetime.date(1900, 1, 1):
        return "That date is too far back."
    return None


# --- Comparing actors, an organisation's members ---


class DayForm(forms.Form):
    """A page's "as of" date, refused (and today shown) when a board would refuse it."""

    as_of = forms.DateField(
        label="As of",
        required=False,
        widget=FastDateInput,
        help_text="Show positions as they stood at the end of that day.",
    )

    def clean_as_of(self):
        day = self.cleaned_data["as_of"]
        error = as_of_error(day) if day else None
        if error:
            raise forms.ValidationError(f"{error} Showing today instead.")
        return day


class CompareForm(DayForm):
    """The comparison's date and the name searched for to add an actor (the slugs are read
    by `views_institutions.chosen_slugs`: a list, in the order given)."""

    q = forms.CharField(
        label="Add an actor",
        required=False,
        max_length=200,
        strip=True,
        widget=FastTextInput,
        help_text="Part of a name, then Search: tick the actors to compare.",
    )


class MembersForm(DayForm):
    """An organisation's members page: who, which question's stances, on which day."""

    q = forms.CharField(
        label="Name",
        required=False,
        max_length=200,
        strip=True,
        widget=FastTextInput,
        help_text="Part of a name.",
    )
    # The parties in use that day, set by the view once the day is known (a choice that is
    # no longer offered is reported and ignored, never an error page).
    party = forms.SlugField(label="Sits for", required=False, max_length=200, widget=FastSelect)
    question = forms.TypedChoiceField(
        label="Question", required=False, coerce=int, empty_value=None, widget=FastSelect
    )
    stance = forms.ChoiceField(label="Stance on that question", required=False, widget=FastSelect)

    def __init__(self, *args, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["question"].choices = [("", "Choose a question"), *questions]
        unknown = (UNKNOWN, WHIP_LABELS[UNKNOWN])
        self.fields["stance"].choices = [("", "Any stance"), *Stance.choices, unknown]
        self.order_fields(["q", "party", "question", "stance", "as_of"])

    def offer_parties(self, parties):
        self.fields["party"].widget.choices = [("", "Any party"), *parties]
