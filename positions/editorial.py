"""
Who may move a statement between draft, published and retracted: the editorial rules.

One place for them: the admin form, the admin actions, the revert view and the import ask
`transition_error` and move statements with `transition`, which stamps the dates readers see.
Formal acts (`FormalAct`) follow the same rules with the same statuses: the functions take
any record with `status`, `source` and `mark_status`, and `noun` says what readers call it.
See docs/editorial.md for the workflow as editors experience it.
"""

from django.core.exceptions import ValidationError
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    Q,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Lag

from . import writes
from .models import FormalAct, Statement, StatementStatus

PUBLISH_PERMISSION = "positions.publish_statement"

# The moves a Publisher may make. A retraction is a public correction: it is final, so a
# retracted statement never goes back to draft or published (its note may still be edited).
STATUS_MOVES = {
    StatementStatus.DRAFT: {StatementStatus.PUBLISHED},
    StatementStatus.PUBLISHED: {StatementStatus.DRAFT, StatementStatus.RETRACTED},
    StatementStatus.RETRACTED: set(),
}


def only_publishers(noun="statement"):
    return (
        f"Only a Publisher can publish, unpublish or retract {_a(noun)}. Save it as a draft "
        "and ask a Publisher to review it."
    )


def _a(noun):
    return f"an {noun}" if noun[0] in "aeiou" else f"a {noun}"


ONLY_PUBLISHERS = only_publishers()


def can_publish(user):
    return user.has_perm(PUBLISH_PERMISSION)


def may_merge_actors(user):
    """
    Merging two actors moves published signatures and deletes an actor readers may know:
    a change to the public record, so a Publisher's (who may also change actors).
    """
    return can_publish(user) and user.has_perm("positions.change_actor")


ONLY_PUBLISHERS_MERGE = (
    "Only a Publisher can merge actors: a merge moves published statements from one actor "
    "to another. Ask a Publisher to do it."
)


def may_edit(user, stored_status):
    """Editors change drafts; what readers can see (published, retracted) is the Publishers'."""
    return stored_status in (None, StatementStatus.DRAFT) or can_publish(user)


def locked_message(stored_status, noun="statement"):
    label = StatementStatus(stored_status).label.lower()
    return (
        f"This {noun} is {label}: only a Publisher can change it. Ask a Publisher to make "
        "the change, or to unpublish it so that you can edit the draft."
    )


def noun_of(record):
    """What editors call a record that follows these rules."""
    return "act" if isinstance(record, FormalAct) else "statement"


def transition_error(user, stored_status, new_status, *, noun="statement"):
    """
    The editorial rule, for every writer (the admin form, the actions, the import, a revert):
    why `user` may not give a statement whose saved status is `stored_status` the status
    `new_status`, or None if they may. `stored_status` is None for a new statement, which
    enters the record as it stands: a draft by anyone; published or retracted (an import
    restoring a record kept elsewhere) by a Publisher only.
    """
    new = StatementStatus(new_status)
    if stored_status is None:
        if new == StatementStatus.DRAFT or can_publish(user):
            return None
        return only_publishers(noun)
    current = StatementStatus(stored_status)
    if not may_edit(user, current):
        return locked_message(current, noun)
    if new == current:
        return None
    if not can_publish(user):
        return only_publishers(noun)
    if new not in STATUS_MOVES[current]:
        if current == StatementStatus.RETRACTED:
            restate = (
                "To restate the position, add a new statement."
                if noun == "statement"
                else f"To record it again, add a new {noun}."
            )
            return (
                f"A retraction is final: the {noun} stays on the record with its correction "
                f"note. {restate}"
            )
        return f"A {current.label.lower()} {noun} cannot become {new.label.lower()}."
    return None


def allowed_statuses(user, stored_status, *, noun="statement"):
    """
    The statuses the admin form offers `user` for a statement whose saved status is
    `stored_status`: those the rule allows, less a retraction of a new statement (there is
    nothing readers saw to correct; the rule allows it for imports restoring a record).
    """
    return [
        status
        for status in StatementStatus
        if transition_error(user, stored_status, status, noun=noun) is None
        and not (stored_status is None and status == StatementStatus.RETRACTED)
    ]


def transition(statement, new_status, user, *, stored_status, note=""):
    """
    Move `statement` (or a formal act; not saved here) from `stored_status` to `new_status`
    if the rule lets `user`, stamping the dates readers see; returns the reason if not. The
    caller saves it, with its `updated_by`, through the write path.
    """
    error = transition_error(user, stored_status, new_status, noun=noun_of(statement))
    if error:
        return error
    if new_status != (stored_status or StatementStatus.DRAFT):
        statement.mark_status(new_status, note=note)
    return None


def change_reason(stored_status, new_status):
    """What the history says of a save that moved a statement, or None if it did not move."""
    if new_status == (stored_status or StatementStatus.DRAFT):
        return None
    return f"Status set to {StatementStatus(new_status).label.lower()}"


def change_status(statement, new_status, user, note=""):
    """
    Move a saved statement to `new_status` if `user` may, and save it through the write path
    (inside `writes.writing()`). Returns None on success, or the reason the statement was left
    unchanged (the instance may then be half-changed: discard it). When many statements are
    moved at once, prefetch their signatures and conditions. A formal act moves the same way
    (it has no signatories or conditions; its source is checked by `clean`).
    """
    if new_status == StatementStatus.PUBLISHED and isinstance(statement, Statement):
        if not statement.signatures.all():
            return "A statement needs at least one signatory before it is published."
        error = Statement.conditions_error(statement.stance, statement.conditions.all())
        if error:
            return error
    error = transition(statement, new_status, user, stored_status=statement.status, note=note)
    if error:
        return error
    try:
        statement.clean()
    except ValidationError as exc:
        return " ".join(exc.messages)
    if isinstance(statement, Statement):
        statement.updated_by = user
    writes.save(statement)
    return None


# What readers see of a statement: a change to any of these after publication is a correction.
CONTENT_FIELDS = (
    "question_id",
    "date",
    "date_precision",
    "stance",
    "summary",
    "quote",
    "quote_locator",
    "attribution",
    "source_id",
)


def corrections(history=None):
    """
    The corrections of the public record, newest first: every saved version of a statement,
    since its first publication, that changed what readers see of it (`CONTENT_FIELDS`), and
    every retraction. `history` narrows the versions looked at (one statement's, say).

    Each row is a historical version with `previous_<field>` (the version before it) for
    `CHANGE_FIELDS`, `is_retraction` and `corrected_at` (a retraction's stamped date, or the
    save's); `changed_fields(row)` names what changed. Saves that change nothing readers see
    (a publisher pressing Save, an unpublish and republish) are not corrections. One query
    over the statements' history, compared in SQL so that a page of corrections is a page.
    """
    versions = Statement.history.all() if history is None else history

    def before(expression):
        return Window(
            Lag(expression),
            partition_by=[F("id")],
            order_by=[F("history_date").asc(), F("history_id").asc()],
        )

    # A missing source compares as 0, so that adding or removing one is a difference.
    keys = {
        name: Coalesce(name, Value(0)) if _nullable(name) else F(name) for name in CHANGE_FIELDS
    }
    retraction = Q(status=StatementStatus.RETRACTED) & ~Q(
        previous_status_or_none=StatementStatus.RETRACTED
    )
    content_changed = Q()
    for name in CONTENT_FIELDS:
        content_changed |= ~Q(**{f"{name}_key": F(f"previous_{name}")})
    content_changed &= Q(previous_history_id__isnull=False)
    return (
        versions.filter(
            # Versions since the first publication (the first of them is what readers first
            # saw) and retractions (a record created retracted has no version before).
            # Statements readers cannot see (back to draft, deleted) are left out.
            Q(history_date__gte=F("first_published_at")) | Q(status=StatementStatus.RETRACTED),
            id__in=Statement.objects.public().values("pk"),
        )
        .annotate(
            previous_history_id=before(F("history_id")),
            **{f"previous_{name}": before(key) for name, key in keys.items()},
            **{f"{name}_key": key for name, key in keys.items()},
        )
        .annotate(
            previous_status_or_none=Coalesce("previous_status", Value("")),
            is_retraction=ExpressionWrapper(retraction, output_field=BooleanField()),
            corrected_at=Case(
                When(retraction, then=Coalesce("retracted_at", "history_date")),
                default=F("history_date"),
            ),
        )
        .filter(content_changed | retraction)
        .order_by("-corrected_at", "-history_id")
    )


def _nullable(name):
    return Statement._meta.get_field(name.removesuffix("_id")).null


# What a correction's entry compares with the version before: what readers see, the status
# (a retraction) and the correction note (what readers are told).
CHANGE_FIELDS = (*CONTENT_FIELDS, "status", "correction_note")


def changed_fields(row):
    """The names readers know of what a correction (a row of `corrections`) changed."""
    if row.previous_history_id is None:
        return []
    return [
        Statement._meta.get_field(name.removesuffix("_id")).verbose_name
        for name in CONTENT_FIELDS
        if getattr(row, f"{name}_key") != getattr(row, f"previous_{name}")
    ]


def last_corrected(statement):
    """
    When readers were last shown a corrected statement: its retraction, or the latest saved
    version, since its first publication, that changed what readers see (`corrections`).
    One query, over the statement's history.
    """
    if statement.retracted_at:
        return statement.retracted_at
    if statement.first_published_at is None:
        return None
    latest = corrections(statement.history.all()).values_list("corrected_at", flat=True).first()
    return latest
