"""
A condition's status over time: each change is kept (date, note, source), the condition's
current status is the latest change's, and a board as of a day shows the status of that day.
"""

import datetime
import importlib

import pytest
from django.apps import apps

from positions import writes
from positions.models import Condition, ConditionStatus, ConditionStatusChange
from tests.admin_builders import admin_url, staff_in, use_test_settings
from tests.builders import BOARD_URL, build_record
from tests.factories import ConditionFactory, SourceFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def change(condition, status, date, note="", source=None):
    with writes.writing():
        row = ConditionStatusChange(
            condition=condition, status=status, date=date, note=note, source=source
        )
        writes.save(row)
    return row


def test_saving_a_change_through_the_write_path_sets_the_current_status():
    condition = ConditionFactory()
    change(condition, ConditionStatus.NOT_MET, D(2025, 9, 1), "The Senate did not act.")
    change(condition, ConditionStatus.MET, D(2025, 3, 1), "An older change, entered later.")
    condition.refresh_from_db()
    assert (condition.status, condition.status_date, condition.status_note) == (
        ConditionStatus.NOT_MET,
        D(2025, 9, 1),
        "The Senate did not act.",
    )


def test_deleting_the_last_change_leaves_the_condition_open():
    condition = ConditionFactory()
    row = change(condition, ConditionStatus.MET, D(2025, 3, 1))
    with writes.writing():
        writes.delete(row)
    condition.refresh_from_db()
    assert (condition.status, condition.status_date) == (ConditionStatus.OPEN, None)


def test_the_board_as_of_a_day_shows_the_status_of_that_day(client):
    record = build_record()
    change(record.condition, ConditionStatus.NOT_MET, D(2025, 9, 1))
    today = client.get(BOARD_URL)
    (condition,) = today.context["conditions"]
    assert (condition.status, condition.status_date) == ("not_met", D(2025, 9, 1))

    july = client.get(BOARD_URL, {"as_of": "2025-07-01"})
    (condition,) = july.context["conditions"]
    assert (condition.status, condition.status_date) == ("open", None)
    assert "Not met" not in july.content.decode()

    october = client.get(BOARD_URL, {"as_of": "2025-10-01"})
    assert october.context["conditions"][0].status == "not_met"


def test_the_condition_page_lists_its_history_newest_first_with_public_sources(client):
    record = build_record()
    hidden = SourceFactory(title="A source only drafts cite", url="https://hidden.example.org")
    change(
        record.condition,
        ConditionStatus.MET,
        D(2025, 1, 10),
        "Safeguards adopted.",
        source=record.sources["cio"],
    )
    change(record.condition, ConditionStatus.NOT_MET, D(2025, 9, 1), "Repealed.", source=hidden)
    html = client.get(record.condition.get_absolute_url()).content.decode()
    history = html[html.index("Status history") :]
    assert history.index("Repealed.") < history.index("Safeguards adopted.")
    assert record.sources["cio"].title in history
    assert hidden.title not in html


def test_the_admin_inline_records_a_change_and_the_status_follows(client, settings):
    use_test_settings(settings)
    condition = ConditionFactory(text="Safeguards", slug="safeguards")
    client.force_login(staff_in("Editors"))
    prefix = "status_changes"
    response = client.post(
        admin_url("condition", "change", condition.pk),
        {
            "text": "Safeguards",
            "slug": "safeguards",
            "description": "",
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-0-date": "2025-02-03",
            f"{prefix}-0-status": "met",
            f"{prefix}-0-note": "Done.",
            f"{prefix}-0-source": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    condition.refresh_from_db()
    assert (condition.status, condition.status_date, condition.status_note) == (
        "met",
        D(2025, 2, 3),
        "Done.",
    )
    assert condition.status_changes.get().history.count() == 1


def test_the_data_migration_makes_one_change_per_condition_not_open():
    met = ConditionFactory(status="met", status_date=D(2024, 5, 1), status_note="Agreed.")
    ConditionFactory(status="open")
    migration = importlib.import_module(
        "positions.migrations.0015_condition_status_changes_from_status"
    )
    with writes.writing():
        migration.changes_from_status(apps, None)
        migration.changes_from_status(apps, None)  # once only
    (row,) = ConditionStatusChange.objects.all()
    assert (row.condition_id, row.status, row.date, row.note) == (
        met.pk,
        "met",
        D(2024, 5, 1),
        "Agreed.",
    )
    assert Condition.objects.get(pk=met.pk).status == "met"
