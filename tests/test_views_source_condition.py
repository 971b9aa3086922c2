"""Source and condition pages: what each document says, who demands each condition."""

import datetime

import pytest

from positions.models import Stance, StatementStatus
from tests.builders import build_record
from tests.factories import ConditionFactory, StatementFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_source_page_cites_the_document_and_lists_its_public_statements(client):
    record = build_record()
    source = record.sources["cio"]
    response = client.get(source.get_absolute_url())
    html = response.content.decode()
    assert source.title in html and "CIO News" in html and f'href="{source.url}"' in html
    assert [s.pk for s in response.context["statements"]] == [
        record.statements["retracted"].pk,
        record.statements["usgov_ratification"].pk,
        record.statements["usgov_adoption"].pk,
    ]


def test_a_source_cited_only_by_drafts_is_404_for_readers(client):
    record = build_record()
    url = record.statements["draft"].source.get_absolute_url()
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(is_staff=True))
    assert client.get(url).status_code == 200


def test_a_condition_page_shows_its_status_and_who_demands_it(client):
    record = build_record()
    condition = record.condition
    condition.status, condition.status_note = "not_met", "The Senate has not acted."
    condition.save()
    response = client.get(condition.get_absolute_url())
    html = response.content.decode()
    assert "Not met" in html and "The Senate has not acted." in html
    assert "United States administration" in html
    assert [s.pk for s in response.context["statements"]] == [
        record.statements["usgov_ratification"].pk
    ]


def test_a_condition_page_lists_its_public_statements_newest_first_page_by_page(client):
    condition = ConditionFactory()
    named = [
        StatementFactory(
            stance=Stance.CONDITIONAL,
            conditions=[condition],
            date=datetime.date(2020, 1, 1) + datetime.timedelta(days=day),
        )
        for day in (3, 1, 30, 2, *range(4, 30))
    ]
    StatementFactory(stance=Stance.CONDITIONAL, conditions=[condition], status="draft")
    StatementFactory(stance=Stance.CONDITIONAL, conditions=[ConditionFactory()])
    newest_first = [s.pk for s in sorted(named, key=lambda s: (s.date, s.pk), reverse=True)]

    first = client.get(condition.get_absolute_url())
    second = client.get(condition.get_absolute_url(), {"page": 2})
    assert [s.pk for s in first.context["statements"]] == newest_first[:25]
    assert [s.pk for s in second.context["statements"]] == newest_first[25:]
    assert first.context["page_obj"].paginator.count == len(named)


def test_a_condition_named_only_in_drafts_is_404_for_readers(client):
    condition = ConditionFactory()
    StatementFactory(
        stance=Stance.CONDITIONAL, conditions=[condition], status=StatementStatus.DRAFT
    )
    assert client.get(condition.get_absolute_url()).status_code == 404


def test_unknown_source_and_condition_are_404(client):
    assert client.get("/sources/999999/").status_code == 404
    assert client.get("/conditions/nope/").status_code == 404
