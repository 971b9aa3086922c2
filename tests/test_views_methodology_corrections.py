"""Methodology gives the rules exactly as stances.py holds them; corrections list retractions."""

import datetime
import os
import subprocess
import sys

import pytest
from django.utils import timezone
from django.utils.html import escape, strip_tags

from positions import stances
from positions.models import STANCE_DEFINITIONS, StatementStatus
from tests.builders import build_record
from tests.factories import StatementFactory

pytestmark = pytest.mark.django_db


def test_the_rules_are_data_the_page_renders_word_for_word(client):
    rules = stances.RULES
    assert len(rules) == 5
    assert rules[0].startswith("An actor's position on a question is the stance of its latest")
    assert "the one recorded later in the tracker (the higher id) counts" in rules[2]
    assert rules[3].startswith('"As of" applies today\'s record to a past date')
    assert rules[4].startswith("No statement means no known position")
    text = strip_tags(client.get("/methodology/").content.decode())
    for rule in rules:
        assert escape(rule) in text


def test_the_rules_are_on_the_page_without_docstrings():
    """
    Under `python -OO` docstrings are gone; the page must still state every rule. The page
    reads no database, so the subprocess needs none of the test database.
    """
    script = (
        "import django; django.setup(); "
        "from django.test import Client; "
        "print(Client().get('/methodology/').content.decode())"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tracker.settings",
        "DEBUG": "1",
        "ALLOWED_HOSTS": "testserver",
    }
    page = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-OO", "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout
    for rule in stances.RULES:
        assert escape(rule) in page


def test_the_stance_definitions_are_on_the_page(client):
    html = client.get("/methodology/").content.decode()
    for stance, definition in STANCE_DEFINITIONS.items():
        assert escape(definition) in html
        assert stance.label in html


def test_the_corrections_page_lists_retractions_newest_first_with_note_and_date(client):
    record = build_record()
    newer = StatementFactory(
        status=StatementStatus.RETRACTED,
        correction_note="Wrong date.",
        retracted_at=timezone.now() - datetime.timedelta(days=1),
    )
    response = client.get("/corrections/")
    listed = list(response.context["page_obj"].object_list)
    assert listed == [newer, record.statements["retracted"]]
    html = response.content.decode()
    assert "Wrong date." in html
    assert "does not say the DoJ opposes adoption" in html
    assert "5 November 2024" in html


def test_the_corrections_page_never_lists_published_or_draft_statements(client):
    record = build_record()
    listed = list(client.get("/corrections/").context["page_obj"].object_list)
    assert record.statements["draft"] not in listed
    assert record.statements["letter"] not in listed
