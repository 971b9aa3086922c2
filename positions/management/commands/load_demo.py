"""Load the demo data set: idempotent, a second run changes nothing."""

import json
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import update_change_reason

from positions.models import (
    Actor,
    Condition,
    Question,
    Signatory,
    Source,
    Statement,
    StatementStatus,
    Topic,
)

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DEFAULT_DATA_SET = DEMO_DIR / "un-cybercrime.json"
CHANGE_REASON = "Loaded from the demo data set"


def create_or_update(model, lookup, values, counts):
    """
    Find the record by its natural key `lookup`; create it, or save only the fields that
    differ. Returns the record; `counts` tallies created / updated / unchanged per model.
    """
    name = model._meta.verbose_name_plural
    values = _without(values, *lookup)
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.full_clean()
        obj._change_reason = CHANGE_REASON
        obj.save()
        counts[f"{name} created"] += 1
        return obj
    changed = [field for field, value in values.items() if getattr(obj, field) != value]
    if changed:
        for field in changed:
            setattr(obj, field, values[field])
        obj.full_clean()
        obj._change_reason = CHANGE_REASON
        obj.save()
        counts[f"{name} updated"] += 1
    else:
        counts[f"{name} unchanged"] += 1
    return obj


class Command(BaseCommand):
    help = (
        "Load the demo data set (the UN Convention against Cybercrime, from the reports in "
        "positions/demo/sources/). Safe to run again: only what differs is written."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", default=str(DEFAULT_DATA_SET), help="A data set in the demo JSON format."
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CommandError(f"Cannot read the demo data set {path}: {error}") from error
        counts = Counter()
        with transaction.atomic():
            self.load(data, counts)
        for line, number in sorted(counts.items()):
            self.stdout.write(f"  {line}: {number}")
        self.stdout.write(self.style.SUCCESS(f"Demo data set loaded from {path.name}."))

    def load(self, data, counts):
        topic = create_or_update(
            Topic, {"slug": data["topic"]["slug"]}, _without(data["topic"], "slug"), counts
        )
        questions = {
            q["slug"]: create_or_update(
                Question, {"topic": topic, "slug": q["slug"]}, _without(q, "slug"), counts
            )
            for q in data["questions"]
        }
        actors = {}
        for a in data["actors"]:  # parents come before their members in the file
            values = _without(a, "slug", "parent", "aliases")
            values["aliases"] = "\n".join(a.get("aliases", []))
            values["parent"] = actors[a["parent"]] if a.get("parent") else None
            actors[a["slug"]] = create_or_update(Actor, {"slug": a["slug"]}, values, counts)
        sources = {}
        for s in data["sources"]:
            values = _without(s, "key", "file", "url")
            lookup = {"url": s["url"]} if s["url"] else {"title": s["title"], "url": ""}
            sources[s["key"]] = create_or_update(Source, lookup, values, counts)
        conditions = {
            c["slug"]: create_or_update(Condition, {"slug": c["slug"]}, _without(c, "slug"), counts)
            for c in data["conditions"]
        }
        for s in data["statements"]:
            self.load_statement(s, questions, actors, sources, conditions, counts)

    def load_statement(self, s, questions, actors, sources, conditions, counts):
        values = _without(
            s, "import_ref", "question", "signatories", "lead", "source", "conditions", "date"
        )
        values.update(
            question=questions[s["question"]],
            source=sources[s["source"]],
            date=timezone.datetime.fromisoformat(s["date"]).date(),
            status=StatementStatus.PUBLISHED,
        )
        named_conditions = [conditions[slug] for slug in s["conditions"]]
        error = Statement.conditions_error(s["stance"], named_conditions)
        if error:
            raise CommandError(f"Statement {s['import_ref']}: {error}")
        statement = create_or_update(Statement, {"import_ref": s["import_ref"]}, values, counts)
        if statement.first_published_at is None:
            statement.first_published_at = timezone.now()
            statement.save(update_fields=["first_published_at"])
            update_change_reason(statement, CHANGE_REASON)

        wanted = [
            (actors[slug], order, slug == s.get("lead"))
            for order, slug in enumerate(s["signatories"])
        ]
        current = [(sig.actor, sig.order, sig.is_lead) for sig in statement.signatures.all()]
        if current != wanted:
            statement.signatures.all().delete()
            for actor, order, is_lead in wanted:
                Signatory.objects.create(
                    statement=statement, actor=actor, order=order, is_lead=is_lead
                )
            counts["signatory lists set"] += 1
        if set(statement.conditions.all()) != set(named_conditions):
            statement.conditions.set(named_conditions)
            counts["condition lists set"] += 1


def _without(mapping, *keys):
    return {key: value for key, value in mapping.items() if key not in keys}
