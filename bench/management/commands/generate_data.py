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
shared conditions. Beside them (bench/bodies.py): a 100-seat chamber with three parties
(memberships with the party a senator sits for, switches and successors) deciding a question
by two thirds, one state actor per ISO country in a community of states deciding a treaty
question by 40 ratifications, and the states' formal acts on three treaty topics
(signatures, ratifications with reservations and their withdrawals, objections,
denunciations). The same seed gives the same records.

Speed over ceremony: rows are written with `bulk_create` in batches, or PostgreSQL `COPY` for
statements and their signatories, so a million statements take minutes. These bypass
`save()`, so no simple-history records are written: synthetic data has no editorial history
to keep. Every model constraint still holds (the database checks them on insert). They go
through the write path all the same: one `writes.writing()` session that asks for every
position to be rebuilt, which it does, with the page cache's bump, once as it ends.

The shape of the data (presets, vocabulary, shares, the plan of the statements) is in
bench/synthetic.py; this command writes it.
"""

import datetime
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from bench import bodies
from bench.bodies import TERM_START
from bench.synthetic import (
    COUNTRIES,
    FIRST_DAY,
    FIRST_NAMES,
    KIND_WEIGHTS,
    LAST_DAY,
    LAST_NAMES,
    ORG_WORDS,
    PRESETS,
    QUESTION_TITLES,
    SUBJECTS,
    plan_boards,
    plan_statements,
    settle_config,
    statement_record,
)
from positions import writes
from positions.folding import fold_actor
from positions.models import (
    Actor,
    ActorKind,
    Condition,
    ConditionStatus,
    FormalAct,
    Membership,
    Question,
    Signatory,
    Source,
    SourceKind,
    Stance,
    Statement,
    StatementStatus,
    Topic,
)

# The tables written here with ids of their own (besides signatories and condition links).
SEQUENCED = (Actor, Topic, Question, Condition, Source, Statement, Membership, FormalAct)


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
        try:
            config = settle_config(scale, options)
        except ValueError as error:
            raise CommandError(error) from error
        self.batch_size = max(100, options["batch_size"])
        self.verbosity = options["verbosity"]
        self.started = time.monotonic()
        if not options["flush"] and (Statement.objects.exists() or Actor.objects.exists()):
            raise CommandError(
                "The database already has actors or statements: run with --flush to replace "
                "them (everything in the positions tables is deleted)."
            )

        rng = random.Random(options["seed"])
        # One write session: the rows are written in bulk, behind save()'s back, so the
        # command says what it wrote, and the session rebuilds every position and bumps the
        # page cache once, as it ends.
        with writes.writing():
            if options["flush"]:
                self.flush()
            self.log(f"Generating {scale} data set with seed {options['seed']}: {config}")
            self.generate(rng, config)
            writes.rebuild_positions()
            self.log("Computing current positions.")
        self.log("Current positions computed.")
        self.analyze()
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
        self.make_bodies(rng, source_ids, condition_ids)

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
        boards, pairs, per_pair = plan_boards(rng, config, actor_ids, len(question_ids))
        sizes = [len(board) for board in boards]
        self.log(
            f"{len(pairs)} actor-question pairs; largest board {max(sizes)} actors, "
            f"smallest {min(sizes)}."
        )
        rows = plan_statements(rng, boards, pairs, per_pair, source_ids, condition_ids)
        self.log(f"{len(rows)} statements planned; writing.")
        self.write_statements(rows, question_ids)

    def write_statements(self, rows, question_ids):
        """The planned rows, their signatories and condition links, batch by batch."""
        first_id = self.next_id(Statement)
        through = Statement.conditions.through
        signatory_id, link_id = self.next_id(Signatory), self.next_id(through)
        now = timezone.now()
        written = 0
        for start in range(0, len(rows), self.batch_size):
            statements, signatories, links = [], [], []
            for offset, row in enumerate(rows[start : start + self.batch_size]):
                _, _, q, actor, _, _, _, cosigners, conditions, _ = row
                statement_id = first_id + start + offset
                statements.append(statement_record(row, statement_id, question_ids[q], now))
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

    def make_bodies(self, rng, source_ids, condition_ids):
        """The chamber and its parties, the states and their acts (bench/bodies.py), with the
        statements of the senators and states on the questions their bodies decide."""
        actor_ids, membership_ids = (
            bodies.Ids(self.next_id(Actor)),
            bodies.Ids(self.next_id(Membership)),
        )
        chamber_actors, memberships, senators = bodies.plan_chamber(rng, actor_ids, membership_ids)
        bloc, states, state_memberships = bodies.plan_states(actor_ids, membership_ids, FIRST_DAY)
        new_actors = [*chamber_actors, bloc, *states]
        for actor in new_actors:
            fold_actor(actor)  # the write path's derived names, which save() would not set
        self.bulk_insert(Actor, new_actors)
        self.bulk_insert(Membership, memberships + state_memberships)
        treaty_topics = list(
            Topic.objects.filter(slug__startswith="syn-topic-")
            .order_by("pk")
            .values_list("pk", flat=True)[: bodies.TREATY_TOPICS]
        )
        count, days = bodies.ENTRY_INTO_FORCE
        Topic.objects.filter(pk__in=treaty_topics).update(
            entry_into_force_count=count, entry_into_force_days=days
        )
        question_ids = bodies.Ids(self.next_id(Question))
        topic, consent = bodies.chamber_question(
            chamber_actors[0], self.next_id(Topic), question_ids
        )
        treaty = bodies.treaty_question(bloc, treaty_topics[0], question_ids)
        self.bulk_insert(Topic, [topic])
        self.bulk_insert(Question, [consent, treaty])
        last_day = min(LAST_DAY, timezone.localdate())
        acts = bodies.plan_acts(
            rng,
            treaty_topics,
            [state.id for state in states],
            source_ids,
            bodies.Ids(self.next_id(FormalAct)),
            last_day,
        )
        self.bulk_insert(FormalAct, acts)
        stances = [(0, *row) for row in bodies.plan_stances(rng, senators, (TERM_START, last_day))]
        on_topic = [a for a in acts if a.topic_id == treaty_topics[0]]
        stances += [(1, *row) for row in bodies.treaty_stances(rng, on_topic, states)]
        conditions = rng.sample(condition_ids, min(3, len(condition_ids)))
        rows = [
            (
                date,
                rng.random(),
                q,
                actor,
                stance,
                StatementStatus.PUBLISHED,
                rng.choice(source_ids),
                (),
                tuple(conditions[: rng.randint(1, len(conditions))])
                if stance == Stance.CONDITIONAL
                else (),
                False,
            )
            for q, actor, stance, date in stances
        ]
        rows.sort(key=lambda row: (row[0], row[1]))
        self.write_statements(rows, [consent.id, treaty.id])
        writes.records_changed()

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
                for model in (*SEQUENCED, Signatory):
                    cursor.execute(f"{command} {model._meta.db_table}")
                cursor.execute(f"{command} {Statement.conditions.through._meta.db_table}")
                self.reset_sequences(cursor)
        else:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    def reset_sequences(self, cursor):
        from django.core.management.color import no_style

        models = [*SEQUENCED, Signatory, Statement.conditions.through]
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
