"""
Data for page tests: a small record shaped like the demo data set (the UN Convention against
Cybercrime with its two questions), and `grow()` to make it many times larger.
"""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from positions.models import (
    ActorIdentifier,
    ActorKind,
    SourceKind,
    Stance,
    StatementStatus,
)
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    QuestionFactory,
    SourceFactory,
    StatementFactory,
    TopicFactory,
)

D = datetime.date
TOPIC_SLUG = "un-convention-against-cybercrime"
ADOPTION_SLUG = "adoption-by-the-un-general-assembly"
RATIFICATION_SLUG = "ratification-by-the-united-states"


@dataclass
class Record:
    topic: object = None
    adoption: object = None
    ratification: object = None
    actors: dict = field(default_factory=dict)
    statements: dict = field(default_factory=dict)
    condition: object = None
    sources: dict = field(default_factory=dict)


def build_record():
    """The shape of the demo data, in miniature (only facts the seed reports state)."""
    r = Record()
    r.topic = TopicFactory(
        title="UN Convention against Cybercrime",
        slug=TOPIC_SLUG,
        summary="A UN treaty on cybercrime and the sharing of electronic evidence.",
    )
    r.adoption = QuestionFactory(
        topic=r.topic,
        title="Adoption by the UN General Assembly",
        short_label="UN adoption",
        slug=ADOPTION_SLUG,
        display_order=1,
    )
    r.ratification = QuestionFactory(
        topic=r.topic,
        title="Ratification by the United States",
        short_label="US ratification",
        slug=RATIFICATION_SLUG,
        display_order=2,
    )
    a = r.actors
    a["usgov"] = ActorFactory(
        name="United States administration",
        slug="us-administration",
        kind=ActorKind.GOVERNMENT,
        country="US",
        aliases="Biden administration\nUS government",
    )
    a["doj"] = ActorFactory(
        name="US Department of Justice",
        slug="us-department-of-justice",
        kind=ActorKind.GOVERNMENT,
        country="US",
        parent=a["usgov"],
    )
    a["wyden"] = ActorFactory(
        name="Ron Wyden", slug="ron-wyden", kind=ActorKind.LEGISLATOR, country="US"
    )
    a["kaine"] = ActorFactory(
        name="Tim Kaine", slug="tim-kaine", kind=ActorKind.LEGISLATOR, country="US"
    )
    a["cisco"] = ActorFactory(name="Cisco", slug="cisco", kind=ActorKind.COMPANY, country="US")
    a["rights"] = ActorFactory(
        name="Digital-rights groups", slug="digital-rights-groups", kind=ActorKind.NGO
    )
    ActorIdentifier.objects.create(actor=a["cisco"], scheme="wikidata", identifier="Q173395")

    s = r.sources
    s["report"] = SourceFactory(
        title="US to back UN cybercrime treaty despite concerns",
        publisher="",
        kind=SourceKind.NEWS_REPORT,
        url="https://news.example.org/us-backs-un-cybercrime-treaty",
        published_on=D(2024, 10, 30),
    )
    s["cio"] = SourceFactory(
        title="Biden administration to support UN cybercrime convention",
        publisher="CIO News",
        kind=SourceKind.NEWS_REPORT,
        url="https://cio.example.org/un-cybercrime-convention",
        archive_url="https://web.archive.org/web/2024/https://cio.example.org/un",
        published_on=D(2024, 10, 31),
    )
    s["letter"] = SourceFactory(
        title="Wyden, Merkley, Kaine, Markey, Van Hollen and Booker Warn U.N. Cyber Convention",
        publisher="Office of U.S. Senator Jeff Merkley",
        kind=SourceKind.PRESS_RELEASE,
        url="https://merkley.senate.gov/wyden-merkley-warn-un-cyber-convention",
        published_on=D(2024, 10, 29),
    )
    r.condition = ConditionFactory(
        text="Human-rights safeguards in place before ratification",
        slug="human-rights-safeguards",
    )
    st = r.statements
    st["usgov_adoption"] = StatementFactory(
        question=r.adoption,
        actors=[a["usgov"]],
        date=D(2024, 10, 30),
        stance=Stance.SUPPORTS,
        summary="The administration will support the convention in the UN vote.",
        source=s["cio"],
        first_published_at=timezone.now(),
    )
    st["usgov_ratification"] = StatementFactory(
        question=r.ratification,
        actors=[a["usgov"]],
        date=D(2024, 10, 30),
        stance=Stance.CONDITIONAL,
        summary="The US is unlikely to ratify unless human-rights controls are put in place.",
        source=s["cio"],
        conditions=[r.condition],
    )
    st["letter"] = StatementFactory(
        question=r.ratification,
        actors=[a["wyden"], a["kaine"]],
        date=D(2024, 10, 29),
        stance=Stance.OPPOSES,
        summary="Senators warn the convention will legitimise authoritarian surveillance.",
        quote="We fear the Convention will legitimize efforts by authoritarian countries "
        "like Russia and China to censor and surveil internet users.",
        quote_locator="second paragraph",
        source=s["letter"],
    )
    st["cisco_early"] = StatementFactory(
        question=r.ratification,
        actors=[a["cisco"]],
        date=D(2024, 6, 1),
        stance=Stance.UNDECIDED,
        summary="Cisco has not decided what it thinks of the treaty.",
        source=s["report"],
    )
    st["cisco"] = StatementFactory(
        question=r.ratification,
        actors=[a["cisco"]],
        date=D(2024, 10, 30),
        stance=Stance.OPPOSES,
        summary="Cisco representatives warn the treaty does not protect human rights.",
        source=s["report"],
    )
    st["rights"] = StatementFactory(
        question=r.ratification,
        actors=[a["rights"]],
        date=D(2024, 10, 30),
        stance=Stance.OPPOSES,
        summary="Digital-rights activists fear abuse by authoritarian regimes.",
        source=s["report"],
    )
    st["retracted"] = StatementFactory(
        question=r.adoption,
        actors=[a["doj"]],
        date=D(2024, 10, 31),
        stance=Stance.OPPOSES,
        summary="Wrongly entered: the Department of Justice opposes adoption.",
        source=s["cio"],
        status=StatementStatus.RETRACTED,
        correction_note="The report says the DoJ will decline requests that violate the "
        "accord; it does not say the DoJ opposes adoption.",
        retracted_at=datetime.datetime(2024, 11, 5, 12, tzinfo=datetime.UTC),
    )
    st["draft"] = StatementFactory(
        question=r.ratification,
        actors=[a["doj"]],
        date=D(2024, 10, 31),
        stance=Stance.SUPPORTS,
        summary="Secret draft about the Department of Justice.",
        source=SourceFactory(title="Draft-only source", url="https://draft.example.org/1"),
        status=StatementStatus.DRAFT,
    )
    return r


def grow(record, factor):
    """
    Add `factor` times more of everything a page lists: actors with statements on both
    questions (some joint, some conditional, some retracted), topics, sources, conditions.
    """
    kinds = list(ActorKind.values)
    stance_cycle = [Stance.SUPPORTS, Stance.CONDITIONAL, Stance.OPPOSES, Stance.UNDECIDED]
    conditions = [ConditionFactory() for _ in range(3)]
    for i in range(factor):
        actors = [
            ActorFactory(kind=kinds[(i + j) % len(kinds)], country=["US", "FR", "BR", ""][j % 4])
            for j in range(3)
        ]
        ActorIdentifier.objects.create(
            actor=actors[0], scheme="wikidata", identifier=f"Q{1000 + i}"
        )
        actors[0].parent = record.actors["usgov"]
        actors[0].save()
        source = SourceFactory()
        for j, actor in enumerate(actors):
            for question in (record.adoption, record.ratification):
                stance = stance_cycle[(i + j) % 4]
                StatementFactory(
                    question=question,
                    actors=[actor],
                    stance=stance,
                    date=D(2024, 1 + (i % 12), 1 + j),
                    source=source,
                    conditions=[conditions[j % 3], record.condition]
                    if stance == Stance.CONDITIONAL
                    else [],
                )
        StatementFactory(
            question=record.ratification,
            actors=[*actors, record.actors["cisco"], record.actors["usgov"]],
            stance=stance_cycle[i % 4],
            date=D(2024, 3, 1 + i % 28),
            source=source,
            conditions=[record.condition] if stance_cycle[i % 4] == Stance.CONDITIONAL else [],
        )
        StatementFactory(
            question=record.adoption,
            actors=[actors[1]],
            status=StatementStatus.RETRACTED,
            source=source,
            date=D(2024, 2, 1),
        )
        StatementFactory(
            question=record.ratification, actors=[actors[2]], status=StatementStatus.DRAFT
        )
        topic = TopicFactory()
        QuestionFactory(topic=topic)
        StatementFactory(question=QuestionFactory(topic=record.topic), actors=[actors[2]])
    return record


BOARD_URL = f"/topics/{TOPIC_SLUG}/{RATIFICATION_SLUG}/"
