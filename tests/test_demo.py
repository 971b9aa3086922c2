import json
import re

import pytest
from django.apps import apps
from django.core.management import call_command

from positions import stances
from positions.management.commands.load_demo import DEFAULT_DATA_SET, DEMO_DIR
from positions.models import Actor, Membership, Question, Stance, Statement, StatementStatus

pytestmark = pytest.mark.django_db

DATA = json.loads(DEFAULT_DATA_SET.read_text(encoding="utf-8"))


def load():
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def row_counts():
    """Rows of every table of the app, history tables included."""
    models = apps.get_app_config("positions").get_models(include_auto_created=True)
    return {m._meta.label: m._default_manager.count() for m in models}


def board(slug):
    question = Question.objects.get(slug=slug)
    return {p.actor.slug: p.statement.stance for p in stances.current_positions(question)}


def test_it_loads_the_convention_with_its_two_questions():
    load()
    assert board("adoption-by-the-un-general-assembly") == {
        "us-administration": Stance.SUPPORTS,
        "ron-wyden": Stance.OPPOSES,
        "tim-kaine": Stance.OPPOSES,
        "jeff-merkley": Stance.OPPOSES,
        "edward-j-markey": Stance.OPPOSES,
        "chris-van-hollen": Stance.OPPOSES,
        "cory-booker": Stance.OPPOSES,
        "cisco": Stance.OPPOSES,
        "digital-rights-groups": Stance.OPPOSES,
    }
    assert board("ratification-by-the-united-states") == {"us-administration": Stance.CONDITIONAL}


def test_the_senators_letter_is_one_statement_led_by_wyden():
    load()
    letter = Statement.objects.get(import_ref="demo-senators-letter")
    signatures = list(letter.signatures.select_related("actor"))
    assert len(signatures) == 6
    assert [s.actor.slug for s in signatures if s.is_lead] == ["ron-wyden"]
    assert {s.actor.parent.slug for s in signatures} == {"us-senate"}


def test_the_six_senators_sit_in_the_senate_for_the_democrats_undated():
    load()
    senate = Actor.objects.get(slug="us-senate")
    memberships = Membership.objects.of(senate).select_related("member", "on_behalf_of")
    assert {m.member.slug: m.area for m in memberships} == {
        "ron-wyden": "US-OR",
        "tim-kaine": "US-VA",
        "jeff-merkley": "US-OR",
        "edward-j-markey": "US-MA",
        "chris-van-hollen": "US-MD",
        "cory-booker": "US-NJ",
    }
    assert {m.on_behalf_of.slug for m in memberships} == {"democratic-party"}
    # No source gives their terms; the party takes no stance of its own.
    assert {(m.start_date, m.end_date) for m in memberships} == {(None, None)}
    assert not Statement.objects.by(Actor.objects.get(slug="democratic-party")).exists()


def test_actors_the_reports_give_no_stance_have_none():
    load()
    for slug in ["russia", "china", "us-department-of-justice", "us-senate"]:
        assert not Statement.objects.by(Actor.objects.get(slug=slug)).exists(), slug
    assert Actor.objects.get(slug="us-department-of-justice").parent.slug == "us-administration"


def test_the_administration_conditions_ratification_on_human_rights_controls():
    load()
    statement = Statement.objects.get(import_ref="demo-us-conditions-ratification")
    assert [c.slug for c in statement.conditions.all()] == ["human-rights-controls"]


def test_every_statement_is_published_with_a_source():
    load()
    assert Statement.objects.count() == len(DATA["statements"])
    assert not Statement.objects.exclude(status=StatementStatus.PUBLISHED).exists()
    assert not Statement.objects.filter(source__isnull=True).exists()
    assert not Statement.objects.filter(first_published_at__isnull=True).exists()


def _normalise(text):
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u2019", "'")
    return re.sub(r"[\s-]+", " ", text).lower()


@pytest.mark.parametrize("statement", DATA["statements"], ids=lambda s: s["import_ref"])
def test_every_quote_stands_in_its_source_text(statement):
    """Nothing invented: each quote is in the copy of the document it cites."""
    source = next(s for s in DATA["sources"] if s["key"] == statement["source"])
    text = (DEMO_DIR / "sources" / source["file"]).read_text(encoding="utf-8")
    assert _normalise(statement["quote"]) in _normalise(text)


def test_a_second_run_changes_nothing():
    load()
    before = row_counts()
    load()
    assert row_counts() == before


def test_a_second_run_leaves_editors_decisions_alone():
    """`make run` loads the demo on every start: it must not undo a correction or retraction."""
    load()
    Actor.objects.filter(slug="cisco").update(name="Cisco Systems, Inc.")
    statement = Statement.objects.get(import_ref="demo-rights-groups-warn")
    statement.mark_status(StatementStatus.RETRACTED, note="Misread the report.")
    statement.save()
    load()
    assert Actor.objects.get(slug="cisco").name == "Cisco Systems, Inc."
    statement.refresh_from_db()
    assert statement.status == StatementStatus.RETRACTED


def test_it_adds_what_is_missing():
    load()
    Statement.objects.get(import_ref="demo-cisco-warns").delete()
    load()
    assert Statement.objects.get(import_ref="demo-cisco-warns").signatures.count() == 1


def test_ensure_admin_prints_the_password_framed_and_once(capsys):
    from django.contrib.auth import get_user_model

    call_command("ensure_admin")
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].startswith("+--") and lines[-1].startswith("+--")
    password = next(line for line in lines if "Password:" in line).split()[-2]
    assert get_user_model().objects.get(username="admin").check_password(password)
    call_command("ensure_admin")
    assert password not in capsys.readouterr().out
