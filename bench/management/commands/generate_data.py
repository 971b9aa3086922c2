"""
Generate a large synthetic data set for the benchmark (`manage.py bench`).

    manage.py generate_data                    # PostgreSQL: 20,000 actors, 600 questions,
                                               # 1,000,000 statements; SQLite: --scale small
    manage.py generate_data --scale small --flush
    manage.py generate_data --actors 500 --statements 5000 --seed 7

The shape is skewed like real trackers: one question with `--largest-question` actors (10,000
at full scale), a long tail of small boards (some around 200 actors), actors with several
statements over time that change stance, joint statements with several signatories, drafts
(some without a source), retractions with their correction notes, conditional stances naming
shared conditions. The same seed gives the same records.

Speed over ceremony: rows are written with `bulk_create` in batches, or PostgreSQL `COPY` for
statements and their signatories, so a million statements take minutes. These bypass
`save()`, so no simple-history records are written: synthetic data has no editorial history
to keep. Every model constraint still holds (the database checks them on insert).
"""

import datetime
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from positions import stances
from positions.caching import bump_data_version
from positions.models import (
    Actor,
    ActorKind,
    Attribution,
    Condition,
    ConditionStatus,
    Question,
    Signatory,
    Source,
    SourceKind,
    Stance,
    Statement,
    StatementStatus,
    Topic,
)

PRESETS = {
    # The scale, for PostgreSQL.
    "full": {
        "actors": 20_000,
        "topics": 200,
        "questions_per_topic": 3,
        "statements": 1_000_000,
        "largest_question": 10_000,
    },
    # Seconds on SQLite; enough for every page and query shape to show.
    "small": {
        "actors": 2_000,
        "topics": 20,
        "questions_per_topic": 3,
        "statements": 20_000,
        "largest_question": 1_000,
    },
    # For tests.
    "tiny": {
        "actors": 60,
        "topics": 3,
        "questions_per_topic": 2,
        "statements": 300,
        "largest_question": 40,
    },
}

FIRST_DAY = datetime.date(2018, 1, 1)
LAST_DAY = datetime.date(2025, 12, 31)
STATEMENTS_PER_PAIR = 2.5  # Average statements by one actor on one question.
SHARE_JOINT = 0.03
SHARE_DRAFT = 0.06
SHARE_RETRACTED = 0.04
SHARE_DRAFT_WITHOUT_SOURCE = 0.5
SHARE_STANCE_CHANGE = 0.3
SHARE_QUOTED = 0.3
# The last fifth of the questions are small boards (10 to 300 actors), as most real ones are.
TAIL_SHARE = 0.2
TAIL_SIZES = (10, 300)

KIND_WEIGHTS = {
    ActorKind.STATE: 4,
    ActorKind.GOVERNMENT: 8,
    ActorKind.LEGISLATOR: 35,
    ActorKind.LEGISLATIVE_GROUP: 3,
    ActorKind.COMPANY: 20,
    ActorKind.NGO: 18,
    ActorKind.INTERGOVERNMENTAL: 2,
    ActorKind.EXPERT: 8,
    ActorKind.MEDIA: 2,
}
COUNTRIES = [
    "US",
    "GB",
    "FR",
    "DE",
    "IT",
    "ES",
    "NL",
    "BE",
    "SE",
    "NO",
    "DK",
    "FI",
    "PL",
    "CZ",
    "AT",
    "CH",
    "IE",
    "PT",
    "GR",
    "RO",
    "HU",
    "BG",
    "HR",
    "SI",
    "SK",
    "EE",
    "LV",
    "LT",
    "CA",
    "MX",
    "BR",
    "AR",
    "CL",
    "CO",
    "PE",
    "ZA",
    "NG",
    "KE",
    "EG",
    "MA",
    "IN",
    "PK",
    "BD",
    "CN",
    "JP",
    "KR",
    "ID",
    "PH",
    "VN",
    "TH",
    "MY",
    "SG",
    "AU",
    "NZ",
    "RU",
    "UA",
    "TR",
    "IL",
    "SA",
    "AE",
    "IR",
]
FIRST_NAMES = [
    "Alex",
    "Sam",
    "Jordan",
    "Maria",
    "Chen",
    "Amina",
    "Lars",
    "Ingrid",
    "Priya",
    "Kofi",
    "Yuki",
    "Elena",
    "Omar",
]
LAST_NAMES = [
    "Morgan",
    "Novak",
    "Okafor",
    "Lindqvist",
    "Tanaka",
    "Haddad",
    "Silva",
    "Kowalski",
    "Dubois",
    "Mensah",
]
ORG_WORDS = [
    "Digital",
    "Rights",
    "Open",
    "Network",
    "Privacy",
    "Alliance",
    "Civil",
    "Liberties",
    "Trust",
    "Tech",
]
SUBJECTS = [
    "Cybercrime",
    "Data",
    "Protection",
    "AI",
    "Safety",
    "Climate",
    "Finance",
    "Trade",
    "Digital",
    "Services",
    "Encryption",
    "Content",
    "Moderation",
    "Critical",
    "Infrastructure",
    "Cross-Border",
    "Evidence",
]
QUESTION_TITLES = (
    ("Adoption", "Adoption by the assembly"),
    ("Signature", "Signature by the government"),
    ("Ratification", "Consent to ratification"),
    ("Implementation", "Implementation in national law"),
)
SUMMARIES = {
    Stance.SUPPORTS: "Says the instrument should go ahead as drafted and urges others to back it.",
    Stance.CONDITIONAL: "Backs the instrument only if the safeguards it names are written in.",
    Stance.OPPOSES: "Warns the instrument would legitimise surveillance and asks for a no vote.",
    Stance.UNDECIDED: "Says it is still studying the text and has not made up its mind.",
}
STANCE_WEIGHTS = (
    (Stance.SUPPORTS, Stance.CONDITIONAL, Stance.OPPOSES, Stance.UNDECIDED),
    (40, 20, 30, 10),
)


def question_sizes(rng, questions, actors, largest, pairs_wanted):
    """
    How many actors take a position on each question: a power law from `largest` down, its
    exponent fitted so the sizes add up to `pairs_wanted`, and a tail of small boards.
    """
    largest = min(largest, actors)
    tail = [
        rng.randint(min(TAIL_SIZES[0], largest), min(TAIL_SIZES[1], largest))
        for _ in range(int(questions * TAIL_SHARE))
    ]
    head_count = questions - len(tail)
    wanted = max(pairs_wanted - sum(tail), largest + head_count - 1)

    def head(exponent):
        return [largest] + [
            max(1, min(largest, round(largest * (i + 1) ** -exponent)))
            for i in range(1, head_count)
        ]

    low, high = 0.0, 8.0
    for _ in range(50):  # Bisection: the sum falls as the exponent grows.
        middle = (low + high) / 2
        if sum(head(middle)) > wanted:
            low = middle
        else:
            high = middle
    return head(high) + tail


def statement_dates(rng, count):
    span = (LAST_DAY - FIRST_DAY).days
    return sorted(FIRST_DAY + datetime.timedelta(days=rng.randrange(span)) for _ in range(count))


class Command(BaseCommand):
    help = __doc__.strip().splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=sorted(PRESETS),
            help="A preset (default: full on PostgreSQL, small elsewhere); the options below "
            "override it.",
        )
        parser.add_argument("--actors", type=int)
        parser.add_argument("--topics", type=int)
        parser.add_argument("--questions-per-topic", type=int)
        parser.add_argument("--statements", type=int)
        parser.add_argument(
            "--largest-question", type=int, help="Actors with a position on the largest board."
        )
        parser.add_argument("--seed", type=int, default=2024)
        parser.add_argument("--batch-size", type=int, default=20_000)
        parser.add_argument(
            "--flush",
            action="store_true",
            help="Delete every actor, topic, source, condition and statement first.",
        )

    def handle(self, *args, **options):
        scale = options["scale"] or ("full" if connection.vendor == "postgresql" else "small")
        config = dict(PRESETS[scale])
        for name in config:
            if options.get(name) is not None:
                config[name] = options[name]
        for name, value in config.items():
            if value < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1.")
        questions = config["topics"] * config["questions_per_topic"]
        if config["statements"] < questions:
            raise CommandError(
                f"--statements must be at least the number of questions ({questions})."
            )
        self.batch_size = max(100, options["batch_size"])
        self.verbosity = options["verbosity"]
        self.started = time.monotonic()

        if options["flush"]:
            self.flush()
        elif Statement.objects.exists() or Actor.objects.exists():
            raise CommandError(
                "The database already has actors or statements: run with --flush to replace "
                "them (everything in the positions tables is deleted)."
            )

        self.log(f"Generating {scale} data set with seed {options['seed']}: {config}")
        rng = random.Random(options["seed"])
        with transaction.atomic():
            self.generate(rng, config)
            self.log("Computing current positions.")
            stances.refresh_positions(
                progress=lambda done, total: self.log(f"positions {done}/{total}")
            )
        self.analyze()
        bump_data_version()
        self.log(f"Done in {time.monotonic() - self.started:.1f} s.")

    # --- output ---------------------------------------------------------------------

    def log(self, message):
        if self.verbosity:
            self.stdout.write(f"[{time.monotonic() - self.started:7.1f} s] {message}")

    # --- the data ---------------------------------------------------------------------

    def generate(self, rng, config):
        actor_ids = self.make_actors(rng, config["actors"])
        question_ids = self.make_questions(rng, config["topics"], config["questions_per_topic"])
        source_ids = self.make_sources(rng, max(10, config["statements"] // 4))
        condition_ids = self.make_conditions(rng, max(5, min(500, config["statements"] // 200)))
        self.make_statements(rng, config, actor_ids, question_ids, source_ids, condition_ids)

    def make_actors(self, rng, count):
        kinds, weights = zip(*KIND_WEIGHTS.items(), strict=True)
        first_id = self.next_id(Actor)
        chosen_kinds = rng.choices(kinds, weights, k=count)
        groups = [
            first_id + i
            for i, kind in enumerate(chosen_kinds)
            if kind == ActorKind.LEGISLATIVE_GROUP
        ]
        actors = []
        for i, kind in enumerate(chosen_kinds):
            if ActorKind(kind).is_person:
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {i}"
            else:
                name = f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_WORDS)} {kind.title()} {i}"
            intergovernmental = kind == ActorKind.INTERGOVERNMENTAL
            actors.append(
                Actor(
                    id=first_id + i,
                    name=name,
                    slug=f"syn-actor-{i}",
                    kind=kind,
                    country="" if intergovernmental else rng.choice(COUNTRIES),
                    parent_id=rng.choice(groups) if kind == "legislator" and groups else None,
                    aliases=f"A{i}\nSynthetic actor {i}" if i % 10 == 0 else "",
                    description=f"Synthetic {ActorKind(kind).label.lower()} number {i}.",
                )
            )
        self.bulk_insert(Actor, actors)
        return [actor.id for actor in actors]

    def make_questions(self, rng, topic_count, per_topic):
        first_topic_id, first_question_id = self.next_id(Topic), self.next_id(Question)
        topics, questions = [], []
        for t in range(topic_count):
            subject = rng.choice(SUBJECTS)
            topics.append(
                Topic(
                    id=first_topic_id + t,
                    title=f"Convention on {subject} {t}",
                    slug=f"syn-topic-{t}",
                    summary=f"A synthetic instrument on {subject.lower()}.",
                )
            )
            for q in range(per_topic):
                label, title = QUESTION_TITLES[q % len(QUESTION_TITLES)]
                round_ = q // len(QUESTION_TITLES)
                questions.append(
                    Question(
                        id=first_question_id + len(questions),
                        topic_id=first_topic_id + t,
                        title=f"{title}, round {round_ + 1}" if round_ else title,
                        short_label=label,
                        slug=f"{label.lower()}-{round_ + 1}" if round_ else label.lower(),
                        display_order=q,
                    )
                )
        self.bulk_insert(Topic, topics)
        self.bulk_insert(Question, questions)
        return [question.id for question in questions]

    def make_sources(self, rng, count):
        first_id = self.next_id(Source)
        kinds = SourceKind.values
        span = (LAST_DAY - FIRST_DAY).days
        now = timezone.now()
        sources = [
            {
                "id": first_id + i,
                "created_at": now,
                "updated_at": now,
                "title": f"Synthetic document {i}",
                "publisher": f"{rng.choice(ORG_WORDS)} Press" if i % 3 else "",
                "kind": rng.choice(kinds),
                "url": f"https://synthetic.example.org/documents/{i}",
                "archive_url": "",
                "published_on": FIRST_DAY + datetime.timedelta(days=rng.randrange(span)),
            }
            for i in range(count)
        ]
        for start in range(0, count, self.batch_size):
            self.write_rows(Source, sources[start : start + self.batch_size])
        self.log(f"sources: {count:,}")
        return [source["id"] for source in sources]

    def make_conditions(self, rng, count):
        first_id = self.next_id(Condition)
        statuses = ConditionStatus.values
        conditions = [
            Condition(
                id=first_id + i,
                text=f"Safeguard {i}: independent oversight of cross-border data requests",
                slug=f"syn-condition-{i}",
                status=rng.choice(statuses),
            )
            for i in range(count)
        ]
        self.bulk_insert(Condition, conditions)
        return [condition.id for condition in conditions]

    def make_statements(self, rng, config, actor_ids, question_ids, source_ids, condition_ids):
        total = config["statements"]
        pairs_wanted = min(int(total / STATEMENTS_PER_PAIR), total)
        sizes = question_sizes(
            rng, len(question_ids), len(actor_ids), config["largest_question"], pairs_wanted
        )
        # Actors with a position on each question; extra statements go to random pairs so
        # some actors speak often, most once or twice.
        boards = [rng.sample(actor_ids, size) for size in sizes]
        pairs = [(q, actor) for q, board in enumerate(boards) for actor in board]
        if len(pairs) > total:
            pairs = pairs[:total]
        per_pair = [1] * len(pairs)
        for index in rng.choices(range(len(pairs)), k=total - len(pairs)):
            per_pair[index] += 1
        self.log(
            f"{len(pairs)} actor-question pairs; largest board {max(sizes)} actors, "
            f"smallest {min(sizes)}."
        )
        # Each question has a few conditions that its conditional stances name.
        question_conditions = [rng.sample(condition_ids, min(5, len(condition_ids))) for _ in sizes]
        stances, weights = STANCE_WEIGHTS

        rows = []  # (date, tiebreak, question index, lead actor, stance, status, ...)
        for (q, actor), count in zip(pairs, per_pair, strict=True):
            stance = rng.choices(stances, weights)[0]
            for date in statement_dates(rng, count):
                if rng.random() < SHARE_STANCE_CHANGE:
                    stance = rng.choices(stances, weights)[0]
                draw = rng.random()
                if draw < SHARE_DRAFT:
                    status = StatementStatus.DRAFT
                elif draw < SHARE_DRAFT + SHARE_RETRACTED:
                    status = StatementStatus.RETRACTED
                else:
                    status = StatementStatus.PUBLISHED
                source = rng.choice(source_ids)
                if status == StatementStatus.DRAFT and rng.random() < SHARE_DRAFT_WITHOUT_SOURCE:
                    source = None
                cosigners = ()
                if rng.random() < SHARE_JOINT and len(boards[q]) > 1:
                    others = rng.sample(boards[q], min(len(boards[q]), rng.randint(2, 7)))
                    cosigners = tuple(other for other in others if other != actor)[:6]
                conditions = ()
                if stance == Stance.CONDITIONAL:
                    conditions = tuple(rng.sample(question_conditions[q], rng.randint(1, 3)))
                quoted = rng.random() < SHARE_QUOTED
                rows.append(
                    (date, rng.random(), q, actor, stance, status, source, cosigners, conditions)
                    + (quoted,)
                )
        # Editors enter statements roughly in date order, across all questions: so do we.
        rows.sort(key=lambda row: (row[0], row[1]))
        self.log(f"{len(rows)} statements planned; writing.")
        self.write_statements(rows, question_ids)

    def write_statements(self, rows, question_ids):
        first_id = self.next_id(Statement)
        first_signatory_id = self.next_id(Signatory)
        through = Statement.conditions.through
        first_link_id = self.next_id(through)
        now = timezone.now()
        signatory_id, link_id = first_signatory_id, first_link_id
        written = 0
        for start in range(0, len(rows), self.batch_size):
            statements, signatories, links = [], [], []
            for offset, row in enumerate(rows[start : start + self.batch_size]):
                date, _, q, actor, stance, status, source, cosigners, conditions, quoted = row
                statement_id = first_id + start + offset
                published = datetime.datetime.combine(date, datetime.time(12), tzinfo=datetime.UTC)
                statements.append(
                    {
                        "id": statement_id,
                        "created_at": now,
                        "updated_at": now,
                        "question_id": question_ids[q],
                        "date": date,
                        "stance": stance,
                        "summary": f"{SUMMARIES[stance]} (Synthetic statement {statement_id}.)",
                        "quote": "We will not accept this text as it stands." if quoted else "",
                        "quote_locator": "p. 2" if quoted else "",
                        "attribution": Attribution.OWN_WORDS if quoted else Attribution.REPORTED,
                        "source_id": source,
                        "status": status,
                        "correction_note": "The source was misread: this was not the actor's "
                        "position."
                        if status == StatementStatus.RETRACTED
                        else "",
                        "first_published_at": (
                            None if status == StatementStatus.DRAFT else published
                        ),
                        "retracted_at": published if status == StatementStatus.RETRACTED else None,
                        "import_ref": "",
                    }
                )
                for order, signer in enumerate((actor, *cosigners)):
                    signatories.append(
                        {
                            "id": signatory_id,
                            "statement_id": statement_id,
                            "actor_id": signer,
                            "order": order,
                            "is_lead": order == 0,
                        }
                    )
                    signatory_id += 1
                for condition in conditions:
                    links.append(
                        {"id": link_id, "statement_id": statement_id, "condition_id": condition}
                    )
                    link_id += 1
            self.write_rows(Statement, statements)
            self.write_rows(Signatory, signatories)
            self.write_rows(through, links)
            written += len(statements)
            rate = written / max(time.monotonic() - self.started, 1e-9)
            self.log(f"statements {written:>9,}/{len(rows):,} ({rate:,.0f}/s overall)")

    # --- writing ----------------------------------------------------------------------

    def next_id(self, model):
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        return (last or 0) + 1

    def bulk_insert(self, model, objects):
        model.objects.bulk_create(objects, batch_size=self.batch_size)
        self.log(f"{model._meta.verbose_name_plural}: {len(objects):,}")

    def write_rows(self, model, rows):
        """Rows as `{attname: value}`; fields left out take their model default."""
        if not rows:
            return
        fields = model._meta.concrete_fields
        defaults = {f.attname: f.get_default() for f in fields if f.attname not in rows[0]}
        if connection.vendor != "postgresql":
            model.objects.bulk_create(
                [model(**defaults, **row) for row in rows], batch_size=self.batch_size
            )
            return
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row([row.get(f.attname, defaults.get(f.attname)) for f in fields])

    def flush(self):
        """Delete the records of every model of the app, history included."""
        from django.apps import apps

        models = list(apps.get_app_config("positions").get_models(include_auto_created=True))
        tables = [model._meta.db_table for model in models]
        self.log(f"Flushing {len(tables)} tables.")
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                names = ", ".join(connection.ops.quote_name(t) for t in tables)
                # Inside a transaction with deferred foreign-key checks pending, TRUNCATE
                # refuses to run until they are done.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            else:
                # SQLite checks foreign keys at commit: the order of the deletes is free.
                with transaction.atomic():
                    for table in tables:
                        cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608

    def analyze(self):
        """Fresh planner statistics, so the first benchmark run sees the real row counts."""
        if connection.vendor == "postgresql":
            # VACUUM also sets the visibility map that index-only scans need; it cannot run
            # inside a transaction (as in tests), where ANALYZE alone does.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
            self.log(command)
            with connection.cursor() as cursor:
                # Every table written here (refresh_positions analyzes its own).
                for model in (Actor, Topic, Question, Condition, Source, Statement, Signatory):
                    cursor.execute(f"{command} {model._meta.db_table}")
                cursor.execute(f"{command} {Statement.conditions.through._meta.db_table}")
                self.reset_sequences(cursor)
        else:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    def reset_sequences(self, cursor):
        from django.core.management.color import no_style

        models = [Actor, Topic, Question, Source, Condition, Statement, Signatory]
        models.append(Statement.conditions.through)
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
