"""Load the demo data set: idempotent, a second run changes nothing."""

import json
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from positions import writes
from positions.models import (
    Actor,
    Condition,
    Membership,
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


def create_missing(model, lookup, values, counts):
    """
    Find the record by its natural key `lookup`, or create it. A record that exists is left
    as it is: editors may have corrected, unpublished or retracted it since, and their
    decisions win over the demo file. Returns (record, created).
    """
    name = model._meta.verbose_name_plural
    obj = model.objects.filter(**lookup).first()
    if obj is not None:
        counts[f"{name} already there"] += 1
        return obj, False
    obj = model(**lookup, **_without(values, *lookup))
    obj.full_clean()
    obj._change_reason = CHANGE_REASON
    writes.save(obj)
    counts[f"{name} created"] += 1
    return obj, True


class Command(BaseCommand):
    help = (
        "Load the demo data set (the UN Convention against Cybercrime, from the reports in "
        "positions/demo/sources/). Safe to run again: it only adds what is missing and never "
        "changes a record that exists."
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
        with writes.writing():
            self.load(data, counts)
        for line, number in sorted(counts.items()):
            self.stdout.write(f"  {line}: {number}")
        self.stdout.write(self.style.SUCCESS(f"Demo data set loaded from {path.name}."))

    def load(self, data, counts):
        topic, _ = create_missing(
            Topic, {"slug": data["topic"]["slug"]}, _without(data["topic"], "slug"), counts
        )
        questions = {
            q["slug"]: create_missing(
                Question, {"topic": topic, "slug": q["slug"]}, _without(q, "slug"), counts
            )[0]
            for q in data["questions"]
        }
        actors = {}
        for a in data["actors"]:  # parents come before their members in the file
            values = _without(a, "slug", "parent", "aliases")
            values["aliases"] = "\n".join(a.get("aliases", []))
            values["parent"] = actors[a["parent"]] if a.get("parent") else None
            actors[a["slug"]], _ = create_missing(Actor, {"slug": a["slug"]}, values, counts)
        sources = {}
        for s in data["sources"]:
            values = _without(s, "key", "file", "url")
            lookup = {"url": s["url"]} if s["url"] else {"title": s["title"], "url": ""}
            sources[s["key"]], _ = create_missing(Source, lookup, values, counts)
        for m in data.get("memberships", []):
            lookup = {
                "member": actors[m["member"]],
                "organization": actors[m["organization"]],
                "role": m["role"],
                "start_date": m.get("start_date"),
            }
            values = {
                "on_behalf_of": actors[m["on_behalf_of"]] if m.get("on_behalf_of") else None,
                "area": m.get("area", ""),
                "source": sources[m["source"]] if m.get("source") else None,
                "end_date": m.get("end_date"),
            }
            create_missing(Membership, lookup, values, counts)
        conditions = {
            c["slug"]: create_missing(Condition, {"slug": c["slug"]}, _without(c, "slug"), counts)[
                0
            ]
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
            # Stamped as the editorial workflow stamps a Publisher's first publication.
            first_published_at=timezone.now(),
        )
        named_conditions = [conditions[slug] for slug in s["conditions"]]
        error = Statement.conditions_error(s["stance"], named_conditions)
        if error:
            raise CommandError(f"Statement {s['import_ref']}: {error}")
        statement, created = create_missing(
            Statement, {"import_ref": s["import_ref"]}, values, counts
        )
        if created:
            for order, slug in enumerate(s["signatories"]):
                signatory = Signatory(
                    statement=statement,
                    actor=actors[slug],
                    order=order,
                    is_lead=slug == s.get("lead"),
                )
                writes.save(signatory)
            statement.conditions.set(named_conditions)


def _without(mapping, *keys):
    return {key: value for key, value in mapping.items() if key not in keys}
