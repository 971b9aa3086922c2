"""
The formal status of a topic's participants, from their published formal acts: the one
place for the rules, used by the status table, its downloads, the boards' marks, the maps and
the actor pages.

- A participant is an actor with a published act on the topic dated on or before the day
  asked about ("as of", default today), as for positions.
- Its signature is its first signature; its consent to be bound is its first ratification,
  acceptance, approval, accession or succession (the kind is shown).
- A reservation or declaration is in force until withdrawn: a withdrawal names the
  reservation it withdraws, or, naming none, withdraws every reservation of the party made
  before it.
- A denunciation (or withdrawal from the treaty) makes a party a former party: it keeps its
  dates in the table, marked as withdrawn, and no longer counts among the parties.
- Entry into force, when the topic gives a rule (`entry_into_force_count` consents, then
  `entry_into_force_days` days): the date is that many days after the consent that reached
  the count. Every consent deposited counts, even one later denounced, as depositaries count
  instruments.
"""

import datetime
from dataclasses import dataclass, field

from .lookups import any_of
from .models import CONSENT_KINDS, ActKind, FormalAct

PAST_TENSE = {
    ActKind.RATIFICATION: "Ratified",
    ActKind.ACCEPTANCE: "Accepted",
    ActKind.APPROVAL: "Approved",
    ActKind.ACCESSION: "Acceded",
    ActKind.SUCCESSION: "Succeeded",
}

SORTS = {
    "name": "Name",
    "signature": "Signature date",
    "consent": "Consent date",
}


class Status:
    """A participant's formal status, from the strongest step it took."""

    WITHDRAWN = "withdrawn"
    PARTY = "party"
    SIGNATORY = "signatory"
    NONE = "none"

    LABELS = {
        WITHDRAWN: "Withdrawn",
        PARTY: "Party",
        SIGNATORY: "Signed",
        NONE: "No formal act",
    }


@dataclass
class Participant:
    """One row of a status table: an actor's formal acts on one topic, as of a date."""

    actor_id: int
    actor_name: str = ""
    actor_slug: str = ""
    country: str = ""
    actor_kind: str = ""
    signature: object = None  # the first signature act
    consent: object = None  # the first act of consent to be bound
    entry_into_force: object = None  # entry into force for this party
    denunciation: object = None
    declarations: list = field(default_factory=list)  # in force
    reservations: list = field(default_factory=list)  # in force
    withdrawn_reservations: list = field(default_factory=list)
    objections: list = field(default_factory=list)
    acts: list = field(default_factory=list)  # every act, oldest first

    @property
    def status(self):
        if self.denunciation is not None:
            return Status.WITHDRAWN
        if self.consent is not None:
            return Status.PARTY
        if self.signature is not None:
            return Status.SIGNATORY
        return Status.NONE

    @property
    def status_label(self):
        return Status.LABELS[self.status]

    @property
    def has_reservation(self):
        return bool(self.reservations)

    @property
    def short_label(self):
        """What a board row says: 'Ratified', 'Acceded', 'Signed', 'Withdrawn'."""
        if self.status == Status.PARTY:
            return PAST_TENSE[self.consent.kind]
        return self.status_label

    @property
    def consent_label(self):
        return self.consent.get_kind_display() if self.consent else ""


def participants_of(acts):
    """
    The participants of `acts` (published acts of one topic, any order), one per actor, by
    actor name: the pure rule, without the database (tests give it unsaved acts).
    """
    by_actor = {}
    for act in sorted(acts, key=lambda a: (a.date, a.pk or 0)):
        row = by_actor.get(act.actor_id)
        if row is None:
            actor = act.actor
            row = by_actor[act.actor_id] = Participant(
                act.actor_id,
                actor.name,
                actor.slug,
                actor.country.code if actor.country else "",
                actor.kind,
            )
        row.acts.append(act)
        kind = act.kind
        if kind == ActKind.SIGNATURE:
            row.signature = row.signature or act
        elif kind in CONSENT_KINDS:
            row.consent = row.consent or act
        elif kind == ActKind.ENTRY_INTO_FORCE:
            row.entry_into_force = row.entry_into_force or act
        elif kind == ActKind.DENUNCIATION:
            row.denunciation = row.denunciation or act
        elif kind == ActKind.RESERVATION:
            row.reservations.append(act)
        elif kind == ActKind.DECLARATION:
            row.declarations.append(act)
        elif kind == ActKind.OBJECTION:
            row.objections.append(act)
        elif kind == ActKind.RESERVATION_WITHDRAWAL:
            withdrawn = [r for r in row.reservations if act.regarding_id in (None, r.pk)]
            row.reservations = [r for r in row.reservations if r not in withdrawn]
            row.withdrawn_reservations.extend(withdrawn)
    return sorted(by_actor.values(), key=lambda r: (r.actor_name.lower(), r.actor_id))


def published_acts(topic, as_of=None, actor_ids=None, with_sources=True):
    """
    A topic's published acts as of a date, with actor and (unless a page shows none)
    source: one query.
    """
    acts = FormalAct.objects.published().on(topic)
    if as_of is not None:
        acts = acts.as_of(as_of)
    if actor_ids is not None:
        acts = acts.filter(any_of("actor_id", actor_ids))
    related = ("actor", "source") if with_sources else ("actor",)
    return acts.select_related(*related).order_by("date", "pk")


def status_of(topic, as_of=None, actor_ids=None):
    """
    `{actor id: Participant}` for a topic (of these actors only, if given), for a board's
    rows, which show no act's source: one query.
    """
    shown = published_acts(topic, as_of, actor_ids, with_sources=False)
    return {row.actor_id: row for row in participants_of(shown)}


@dataclass(frozen=True)
class Totals:
    signatures: int
    consents: int
    parties: int  # consented, not withdrawn
    withdrawn: int
    reservations: int  # participants with a reservation in force
    by_consent_kind: dict

    @property
    def sentence(self):
        """'65 signatures, 3 ratifications, 1 accession': what depositaries print."""
        parts = [_count(self.signatures, "signature")]
        for kind in (ActKind.RATIFICATION, ActKind.ACCEPTANCE, ActKind.APPROVAL):
            if self.by_consent_kind.get(kind):
                parts.append(_count(self.by_consent_kind[kind], kind.label.lower()))
        for kind in (ActKind.ACCESSION, ActKind.SUCCESSION):
            if self.by_consent_kind.get(kind):
                parts.append(_count(self.by_consent_kind[kind], kind.label.lower()))
        if not any(self.by_consent_kind.values()):
            parts.append("0 ratifications")
        return ", ".join(parts)


def _count(number, noun):
    return f"{number} {noun}{'' if number == 1 else 's'}"


def totals(participants):
    by_kind = {}
    for row in participants:
        if row.consent is not None:
            by_kind[row.consent.kind] = by_kind.get(row.consent.kind, 0) + 1
    return Totals(
        signatures=sum(1 for r in participants if r.signature is not None),
        consents=sum(by_kind.values()),
        parties=sum(1 for r in participants if r.status == Status.PARTY),
        withdrawn=sum(1 for r in participants if r.status == Status.WITHDRAWN),
        reservations=sum(1 for r in participants if r.has_reservation),
        by_consent_kind=by_kind,
    )


@dataclass(frozen=True)
class EntryIntoForce:
    """A topic's entry-into-force rule and where it stands on a date."""

    count: int
    days: int
    consents: int  # deposited as of the date
    date: datetime.date | None  # when it enters (or entered) into force, once the count is met
    as_of: datetime.date

    @property
    def met(self):
        return self.date is not None

    @property
    def in_force(self):
        return self.date is not None and self.date <= self.as_of

    @property
    def count_ordinal(self):
        """'40th', '1st', '22nd', '3rd'."""
        n = self.count
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"

    @property
    def remaining(self):
        return max(self.count - self.consents, 0)

    @property
    def percent(self):
        return min(100, round(100 * self.consents / self.count)) if self.count else 100


def entry_into_force(topic, participants, as_of):
    """The rule of `topic` applied to its participants' consents, or None without a rule."""
    if not topic.entry_into_force_count:
        return None
    days = topic.entry_into_force_days or 0
    consents = sorted(r.consent.date for r in participants if r.consent is not None)
    date = None
    if len(consents) >= topic.entry_into_force_count:
        date = consents[topic.entry_into_force_count - 1] + datetime.timedelta(days=days)
    return EntryIntoForce(topic.entry_into_force_count, days, len(consents), date, as_of)


# What the act filter of the table keeps.
ACT_FILTERS = {
    "signature": ("Signed", lambda r: r.signature is not None),
    "consent": ("Consented to be bound", lambda r: r.consent is not None),
    "party": ("Party now (not withdrawn)", lambda r: r.status == Status.PARTY),
    "reservation": ("With a reservation in force", lambda r: bool(r.reservations)),
    "declaration": ("With a declaration", lambda r: bool(r.declarations)),
    "objection": ("With an objection", lambda r: bool(r.objections)),
    "withdrawn": ("Withdrawn (denounced)", lambda r: r.denunciation is not None),
}


def filtered(participants, act):
    if act in ACT_FILTERS:
        keep = ACT_FILTERS[act][1]
        return [r for r in participants if keep(r)]
    return list(participants)


def sorted_rows(participants, sort):
    """Sorted by `sort` (a key of SORTS, '-' first for descending); undated rows last."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key == "name":
        rows = sorted(participants, key=lambda r: (r.actor_name.lower(), r.actor_id))
        return rows[::-1] if descending else rows
    act_of = (lambda r: r.signature) if key == "signature" else (lambda r: r.consent)
    dated = [r for r in participants if act_of(r) is not None]
    undated = [r for r in participants if act_of(r) is None]
    dated.sort(key=lambda r: (act_of(r).date, r.actor_name.lower()), reverse=descending)
    return dated + undated


# --- An actor's timeline ---------------------------------------------------------------------


def timeline_acts(actor, staff=False):
    """An actor's public acts (staff: drafts too), newest first, with topic and source."""
    formal = FormalAct.objects.filter(actor=actor)
    if not staff:
        formal = formal.public()
    return list(formal.select_related("topic", "source").order_by("-date", "-pk"))


def is_act(item):
    return isinstance(item, FormalAct)


def interleaved(statement_rows, formal_acts):
    """Statement rows (with `date`, `pk`) and acts in one list, newest first."""
    items = [*statement_rows, *formal_acts]
    return sorted(items, key=lambda item: (item.date, is_act(item), item.pk), reverse=True)


# --- Popolo: the acts download's shape (docs/import-format.md, "acts.csv") ---------------


def act_record(act):
    """
    A public act as Popolo's `formal_acts` carries it: the columns of the acts download
    (the import type's, `exchange.columns.ACTS`), with stable ids: `act-<pk>`, and the
    reservation it refers to as `regarding_id`.
    """
    from .exchange import TYPES, export_values  # the exchange imports the record, not this

    record = {"id": f"act-{act.pk}", **export_values(TYPES["acts"], act)}
    record["regarding_id"] = f"act-{act.regarding_id}" if act.regarding_id else ""
    return record


def public_acts():
    """Every act readers may see (published, and retracted ones as retracted): one query."""
    return (
        FormalAct.objects.public()
        .select_related("actor", "topic", "source", "regarding__actor")
        .order_by("topic__slug", "date", "pk")
    )
