"""
The institutions and treaties of the synthetic data set (`generate_data`), planned from its
seeded generator (the same seed gives the same records):

- a 100-seat chamber, two seats for each US state, with three parties: its senators sit for
  a party (`on_behalf_of`) and are members of it; a few switch party, a few leave and are
  replaced, and the chamber decides a question by two thirds of its seats, on which most
  senators have a stance that leans with their party;
- one state actor for every ISO 3166-1 country, all members of a community of states that
  decides a treaty question by a count of ratifications;
- the states' formal acts on a few treaty topics (each with an entry-into-force rule):
  signatures, ratifications (some acceptances and approvals), accessions, reservations and
  declarations with their text, objections and withdrawals naming a reservation, and a few
  denunciations; most published with a source, some drafts.

The planners return model instances with their ids set, so the command writes them in bulk
(`bulk_create`, or COPY on PostgreSQL) inside its write session.
"""

import datetime

import pycountry

from positions.models import (
    ActKind,
    Actor,
    ActorKind,
    FormalAct,
    Membership,
    Question,
    Stance,
    StatementStatus,
    ThresholdKind,
    Topic,
)
from positions.states import iso_countries

SEATS = 100
TERM_START = datetime.date(2023, 1, 3)
SWITCH_DAY = datetime.date(2024, 6, 1)  # a few senators change party
LEAVE_DAY = datetime.date(2024, 9, 30)  # a few leave; their successors start the next day
SWITCHERS, LEAVERS = 4, 3
# Party slug, name, seats, and its senators' stances on the chamber's question.
PARTIES = (
    (
        "syn-party-blue",
        "Synthetic Blue Party",
        48,
        {Stance.SUPPORTS: 7, Stance.CONDITIONAL: 2, Stance.UNDECIDED: 1},
    ),
    (
        "syn-party-red",
        "Synthetic Red Party",
        47,
        {Stance.OPPOSES: 5, Stance.CONDITIONAL: 3, Stance.SUPPORTS: 1, Stance.UNDECIDED: 1},
    ),
    ("syn-party-green", "Synthetic Green Party", 5, {Stance.SUPPORTS: 1, Stance.OPPOSES: 1}),
)
SHARE_SILENT = 0.1  # senators with no known position

TREATY_TOPICS = 3
ENTRY_INTO_FORCE = (40, 90)  # consents needed, then days
SHARE_SIGN, SHARE_ON_OPENING_DAY, SHARE_CONSENT, SHARE_ACCEDE = 0.65, 0.3, 0.55, 0.12
SHARE_RESERVATION, SHARE_DECLARATION, SHARE_WITHDRAWN, SHARE_OBJECTED = 0.15, 0.1, 0.25, 0.3
SHARE_DENOUNCED, SHARE_DRAFT_ACT = 0.03, 0.03
CONSENT_KINDS = {ActKind.RATIFICATION: 8, ActKind.ACCEPTANCE: 1, ActKind.APPROVAL: 1}


class Ids:
    """The next free id of a model, handed out one at a time."""

    def __init__(self, start):
        self.next = start

    def __call__(self):
        value, self.next = self.next, self.next + 1
        return value


def us_states():
    """The 50 states' ISO 3166-2 codes (not the district or the outlying areas)."""
    return sorted(
        s.code for s in pycountry.subdivisions.get(country_code="US") if s.type == "State"
    )


def weighted(rng, weights):
    values, counts = zip(*weights.items(), strict=True)
    return rng.choices(values, counts)[0]


def plan_chamber(rng, actor_ids, membership_ids):
    """
    The chamber, its parties and senators (`Actor`s) and their memberships. Returns
    (actors, memberships, senators), where each senator is (actor id, party slug, first
    day): a senator who switched appears once per party.
    """
    chamber = Actor(
        id=actor_ids(),
        slug="syn-senate",
        name="Synthetic Senate",
        kind=ActorKind.LEGISLATIVE_GROUP,
        country="US",
        description="A synthetic 100-seat chamber that decides by two thirds of its seats.",
    )
    parties = {
        slug: Actor(
            id=actor_ids(), slug=slug, name=name, kind=ActorKind.LEGISLATIVE_GROUP, country="US"
        )
        for slug, name, _, _ in PARTIES
    }
    seats = [slug for slug, _, count, _ in PARTIES for _ in range(count)]
    rng.shuffle(seats)
    areas = [code for code in us_states() for _ in range(2)]
    actors, memberships, senators = [chamber, *parties.values()], [], []

    def senator(number, area):
        actor = Actor(
            id=actor_ids(),
            slug=f"syn-senator-{number}",
            name=f"Senator {number} ({area})",
            kind=ActorKind.LEGISLATOR,
            country="US",
            parent_id=chamber.id,
            description=f"A synthetic senator for {area}.",
        )
        actors.append(actor)
        return actor

    def sit(actor, party, area, start, end=None):
        for organization, role, behalf in (
            (chamber, "senator", parties[party]),
            (parties[party], "member", None),
        ):
            memberships.append(
                Membership(
                    id=membership_ids(),
                    member_id=actor.id,
                    organization_id=organization.id,
                    role=role,
                    on_behalf_of_id=behalf.id if behalf else None,
                    area=area if organization is chamber else "",
                    start_date=start,
                    end_date=end,
                )
            )

    seat_numbers = list(range(SEATS))
    switchers = set(rng.sample(seat_numbers, SWITCHERS))
    leavers = set(rng.sample(sorted(set(seat_numbers) - switchers), LEAVERS))
    for seat, (party, area) in enumerate(zip(seats, areas, strict=True)):
        actor = senator(seat, area)
        if seat in switchers:
            other = rng.choice([slug for slug in parties if slug != party])
            sit(actor, party, area, TERM_START, SWITCH_DAY - datetime.timedelta(days=1))
            sit(actor, other, area, SWITCH_DAY)
            senators += [(actor.id, party, TERM_START), (actor.id, other, SWITCH_DAY)]
        elif seat in leavers:
            sit(actor, party, area, TERM_START, LEAVE_DAY)
            successor = senator(SEATS + len(senators), area)
            first_day = LEAVE_DAY + datetime.timedelta(days=1)
            sit(successor, party, area, first_day)
            senators += [(actor.id, party, TERM_START), (successor.id, party, first_day)]
        else:
            sit(actor, party, area, TERM_START)
            senators.append((actor.id, party, TERM_START))
    return actors, memberships, senators


def chamber_question(chamber, topic_id, question_ids):
    """The chamber's own topic and the question it decides by two thirds of 100 seats."""
    topic = Topic(
        id=topic_id,
        slug="syn-senate-consent",
        title="Synthetic Senate consent to the Synthetic Convention",
        summary="A synthetic decision of a 100-seat chamber, by two thirds of its seats.",
    )
    consent = Question(
        id=question_ids(),
        topic_id=topic.id,
        slug="consent",
        title="Consent of the Synthetic Senate to ratification",
        short_label="Consent",
        deciding_body_id=chamber.id,
        threshold_kind=ThresholdKind.FRACTION,
        threshold_numerator=2,
        threshold_denominator=3,
        seats=SEATS,
    )
    return topic, consent


def treaty_question(bloc, topic_id, question_ids):
    """A treaty topic's question that the community of states decides by ratifications."""
    return Question(
        id=question_ids(),
        topic_id=topic_id,
        slug="ratifications",
        title="Ratification by enough states for entry into force",
        short_label="Ratifications",
        display_order=100,
        deciding_body_id=bloc.id,
        threshold_kind=ThresholdKind.COUNT,
        threshold_count=ENTRY_INTO_FORCE[0],
    )


def plan_stances(rng, senators, date_range):
    """(actor id, stance, date) for the senators who have a known position."""
    leanings = {slug: weights for slug, _, _, weights in PARTIES}
    first, last = date_range
    rows = []
    for actor_id, party, start in senators:
        if rng.random() < SHARE_SILENT:
            continue
        begin = max(first, start)
        date = begin + datetime.timedelta(days=rng.randrange(max(1, (last - begin).days)))
        rows.append((actor_id, weighted(rng, leanings[party]), date))
    return rows


def plan_states(actor_ids, membership_ids, first_day):
    """One state actor per ISO country, and the community of states they all belong to."""
    bloc = Actor(
        id=actor_ids(),
        slug="syn-community-of-states",
        name="Synthetic Community of States",
        kind=ActorKind.INTERGOVERNMENTAL,
        description="Every state of the synthetic data set: it decides the treaty question.",
    )
    states = [
        Actor(
            id=actor_ids(),
            slug=f"syn-state-{country.code.lower()}",
            name=country.name,
            kind=ActorKind.STATE,
            country=country.code,
            description=f"A synthetic state actor for {country.name}.",
        )
        for country in iso_countries()
    ]
    memberships = [
        Membership(
            id=membership_ids(),
            member_id=state.id,
            organization_id=bloc.id,
            role="member",
            start_date=first_day,
        )
        for state in states
    ]
    return bloc, states, memberships


def plan_acts(rng, topic_ids, state_ids, source_ids, act_ids, last_day):
    """The formal acts of the states on the treaty topics, oldest first for each party."""
    acts, reservations = [], []

    def act(actor_id, topic_id, kind, date, **fields):
        if date > last_day:
            return None
        draft = rng.random() < SHARE_DRAFT_ACT
        status = StatementStatus.DRAFT if draft else StatementStatus.PUBLISHED
        source = None if draft and rng.random() < 0.5 else rng.choice(source_ids)
        record = FormalAct(
            id=act_ids(),
            actor_id=actor_id,
            topic_id=topic_id,
            kind=kind,
            date=date,
            status=status,
            source_id=source,
            first_published_at=None
            if draft
            else datetime.datetime.combine(date, datetime.time(12), tzinfo=datetime.UTC),
            **fields,
        )
        acts.append(record)
        return record

    def later(date, low, high):
        return date + datetime.timedelta(days=rng.randint(low, high))

    for index, topic_id in enumerate(topic_ids):
        opening = datetime.date(2019, 3, 1) + datetime.timedelta(days=150 * index)
        for state_id in state_ids:
            consent, consent_kind = None, None
            if rng.random() < SHARE_SIGN:
                signed = opening if rng.random() < SHARE_ON_OPENING_DAY else later(opening, 1, 365)
                place = "Synthetic City" if signed == opening else ""
                if act(state_id, topic_id, ActKind.SIGNATURE, signed, place=place) and (
                    rng.random() < SHARE_CONSENT
                ):
                    consent, consent_kind = later(signed, 60, 1500), weighted(rng, CONSENT_KINDS)
            elif rng.random() < SHARE_ACCEDE:
                consent, consent_kind = later(opening, 400, 2000), ActKind.ACCESSION
            if consent is None or act(state_id, topic_id, consent_kind, consent) is None:
                continue
            if rng.random() < SHARE_DECLARATION:
                act(
                    state_id,
                    topic_id,
                    ActKind.DECLARATION,
                    consent,
                    text="The State declares that it will apply the treaty through its courts.",
                )
            if rng.random() < SHARE_RESERVATION:
                reservation = act(
                    state_id,
                    topic_id,
                    ActKind.RESERVATION,
                    consent,
                    text="The State does not consider itself bound by the article on "
                    "disputes between parties.",
                )
                if reservation is not None:
                    reservations.append(reservation)
                    if rng.random() < SHARE_WITHDRAWN:
                        act(
                            state_id,
                            topic_id,
                            ActKind.RESERVATION_WITHDRAWAL,
                            later(consent, 200, 900),
                            regarding_id=reservation.id,
                        )
            if rng.random() < SHARE_DENOUNCED:
                act(state_id, topic_id, ActKind.DENUNCIATION, later(consent, 400, 1500))
    for reservation in reservations:
        if rng.random() < SHARE_OBJECTED:
            objector = rng.choice([s for s in state_ids if s != reservation.actor_id])
            act(
                objector,
                reservation.topic_id,
                ActKind.OBJECTION,
                later(reservation.date, 30, 300),
                text="The State objects to this reservation, which it finds incompatible with "
                "the object and purpose of the treaty.",
                regarding_id=reservation.id,
            )
    return acts


def treaty_stances(rng, acts, states):
    """The states' stances on the treaty question, in step with their acts on its topic:
    a party supports it, a signatory supports it or asks for conditions, others are split."""
    status = {}
    for record in acts:
        if record.status != StatementStatus.PUBLISHED:
            continue
        if record.kind == ActKind.SIGNATURE:
            status.setdefault(record.actor_id, ("signed", record.date))
        elif ActKind(record.kind).is_consent:
            status[record.actor_id] = ("party", record.date)
    rows = []
    for state in states:
        kind, date = status.get(state.id, (None, None))
        if kind == "party":
            rows.append((state.id, Stance.SUPPORTS, date))
        elif kind == "signed":
            rows.append((state.id, rng.choice([Stance.SUPPORTS, Stance.CONDITIONAL]), date))
        elif rng.random() < 0.6:
            stance = rng.choice([Stance.OPPOSES, Stance.UNDECIDED])
            rows.append((state.id, stance, datetime.date(2019, 3, 1)))
    return rows
