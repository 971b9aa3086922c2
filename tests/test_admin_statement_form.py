"""
The statement admin as editors use it: signatories next to the stance, in the order of their
rows; the list's deciding columns and filter titles; a history diff that shows text whole.
"""

import re

import pytest

from positions import writes
from positions.models import Statement
from tests.admin_builders import admin_url, staff_in, statement_form_data, use_test_settings
from tests.factories import ActorFactory, QuestionFactory, SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _admin_test_settings(settings):
    use_test_settings(settings)


@pytest.fixture
def editor():
    return staff_in("Editors")


def test_the_signatories_come_right_after_the_stance(client, editor):
    client.force_login(editor)
    html = client.get(admin_url("statement", "add")).content.decode()
    stance = html.index('name="stance"')
    signatories = html.index('id="signatures-group"')
    summary = html.index('name="summary"')
    assert stance < signatories < summary
    assert 'name="signatures-0-order"' not in html  # no number to type


def test_the_order_of_the_rows_is_the_order_of_the_signatories(client, editor):
    question, source = QuestionFactory(), SourceFactory()
    first, second, third = ActorFactory(), ActorFactory(), ActorFactory()
    client.force_login(editor)
    data = statement_form_data(
        signatories=[first, second, third], question=question.pk, source=source.pk, summary="x"
    )
    for index in range(3):
        data.pop(f"signatures-{index}-order")
    response = client.post(admin_url("statement", "add"), data)
    assert response.status_code == 302
    statement = Statement.objects.get()
    rows = list(statement.signatures.order_by("order"))
    assert [(s.actor, s.order, s.is_lead) for s in rows] == [
        (first, 0, True),
        (second, 1, False),
        (third, 2, False),
    ]

    # Removing the first row moves the others up; a new row goes last.
    fourth = ActorFactory()
    data = statement_form_data(statement, signatories=[fourth])
    data["signatures-0-DELETE"] = "on"
    data["signatures-1-is_lead"] = "on"
    data.pop("signatures-0-is_lead")
    response = client.post(admin_url("statement", "change", statement.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    rows = list(statement.signatures.order_by("order"))
    assert [(s.actor, s.order, s.is_lead) for s in rows] == [
        (second, 0, True),
        (third, 1, False),
        (fourth, 2, False),
    ]


def test_the_list_shows_the_deciding_columns_first_and_distinct_filter_titles(client, editor):
    StatementFactory()
    client.force_login(editor)
    response = client.get(admin_url("statement"))
    html = response.content.decode()
    columns = response.context["cl"].list_display
    assert columns.index("stance") < columns.index("signatory_names")
    assert columns.index("updated_by") < columns.index("question_label")
    assert "By source kind" in html and "By signatory kind" in html
    assert "By kind" not in html
    assert "admin_csp/admin.css" in html


def test_the_history_diff_shows_the_whole_text_and_no_empty_reason(admin_client):
    old = "The senators say the convention fails to protect " + "independent journalists " * 6
    statement = StatementFactory(summary=old)
    with writes.writing():
        statement.summary = old.replace("independent", "freelance") + "and their sources."
        writes.save(statement)
    html = admin_client.get(admin_url("statement", "history", statement.pk)).content.decode()
    assert old.strip() in html and "and their sources." in html
    assert " chars]" not in html
    reasons = re.findall(r'<td class="history-reason">\s*(.*?)\s*</td>', html, re.S)
    assert reasons and all(reason == "" for reason in reasons)
