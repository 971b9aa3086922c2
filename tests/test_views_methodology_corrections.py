"""
Methodology gives the rules exactly as stances.py holds them; corrections list every change
readers see after publication, retractions included.
"""

import datetime
import os
import subprocess
import sys

import pytest
from django.utils import timezone
from django.utils.html import escape, strip_tags

from positions import stances
from positions.models import STANCE_DEFINITIONS, Stance, StatementStatus
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
    listed = [entry.id for entry in response.context["page_obj"].object_list]
    assert listed == [newer.pk, record.statements["retracted"].pk]
    html = response.content.decode()
    assert "Wrong date." in html
    assert "does not say the DoJ opposes adoption" in html
    assert "5 November 2024" in html


def test_the_corrections_page_never_lists_published_or_draft_statements(client):
    record = build_record()
    listed = [entry.id for entry in client.get("/corrections/").context["page_obj"].object_list]
    assert record.statements["draft"].pk not in listed
    assert record.statements["letter"].pk not in listed


def test_the_corrections_page_lists_every_change_readers_see_newest_first(client):
    from positions import writes

    record = build_record()
    statement = record.statements["usgov_adoption"]  # published, with a publication stamp
    with writes.writing():
        statement.summary = "The administration will vote for the convention at the UN."
        statement.correction_note = "The summary said 'support'; the report says 'vote for'."
        writes.save(statement)
        writes.save(statement)  # saved again unchanged: not a correction
        statement.stance = Stance.UNDECIDED
        writes.save(statement)
    response = client.get("/corrections/")
    entries = list(response.context["page_obj"].object_list)
    assert [(e.id, e.is_retraction, e.changes) for e in entries] == [
        (statement.pk, False, ["stance"]),
        (statement.pk, False, ["summary"]),
        (record.statements["retracted"].pk, True, []),
    ]
    html = response.content.decode()
    assert "Corrected stance</strong> (stance: Supports → Undecided)" in html
    assert "the report says &#x27;vote for&#x27;." in html
    assert 'href="/feeds/corrections/"' in html


def test_the_corrections_feed_has_one_entry_per_correction(client):
    from positions import writes

    record = build_record()
    statement = record.statements["usgov_adoption"]
    with writes.writing():
        statement.summary = "Corrected once."
        writes.save(statement)
        statement.summary = "Corrected twice."
        writes.save(statement)
    feed = client.get("/feeds/corrections/").content.decode()
    assert feed.count("<entry>") == 3
    assert feed.count(f"/statements/{statement.pk}/") >= 2
    assert "Corrected summary" in feed and "Retracted" in feed
