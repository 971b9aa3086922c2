"""The statement list (filters, search, sorting, pagination) and the statement page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions import writes
from positions.models import ActorKind, SourceKind, Stance, StatementStatus
from positions.views import STATEMENTS_PER_PAGE
from tests.builders import build_record
from tests.factories import SourceFactory, StatementFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def listed(response):
    return [s.pk for s in response.context["page_obj"].object_list]


def pks(record, *names):
    return [record.statements[name].pk for name in names]


# --- list -----------------------------------------------------------------------------------


def test_it_lists_public_statements_newest_first_with_retracted_marked(client):
    record = build_record()
    response = client.get("/statements/")
    listed_pks = listed(response)
    assert record.statements["draft"].pk not in listed_pks
    assert record.statements["retracted"].pk in listed_pks
    dates = [s.date for s in response.context["page_obj"].object_list]
    assert dates == sorted(dates, reverse=True)
    assert "(retracted)" in response.content.decode()


def test_staff_see_drafts_in_the_list(client):
    record = build_record()
    client.force_login(UserFactory(is_staff=True))
    assert record.statements["draft"].pk in listed(client.get("/statements/"))


def test_it_filters_by_question_and_stance(client):
    record = build_record()
    response = client.get(
        "/statements/", {"question": record.ratification.pk, "stance": Stance.OPPOSES}
    )
    assert sorted(listed(response)) == sorted(pks(record, "letter", "cisco", "rights"))


def test_it_filters_by_actor_kind_and_country_once_per_statement(client):
    record = build_record()
    response = client.get("/statements/", {"kind": ActorKind.LEGISLATOR, "country": "US"})
    # The joint letter has two legislators but is listed once.
    assert listed(response) == pks(record, "letter")


def test_it_filters_by_date_range_and_source_kind(client):
    record = build_record()
    response = client.get("/statements/", {"date_from": "2024-10-29", "date_to": "2024-10-29"})
    assert listed(response) == pks(record, "letter")
    response = client.get("/statements/", {"source_kind": SourceKind.PRESS_RELEASE})
    assert listed(response) == pks(record, "letter")


def test_it_filters_by_actor_slug(client):
    record = build_record()
    assert sorted(listed(client.get("/statements/", {"actor": "cisco"}))) == sorted(
        pks(record, "cisco_early", "cisco")
    )


def test_search_matches_summary_quote_and_actor_names(client):
    record = build_record()
    assert listed(client.get("/statements/", {"q": "authoritarian"})) == pks(
        record, "rights", "letter"
    )
    assert listed(client.get("/statements/", {"q": "surveil"})) == pks(record, "letter")
    assert sorted(listed(client.get("/statements/", {"q": "Cisco"}))) == sorted(
        pks(record, "cisco_early", "cisco")
    )


def test_sorting_follows_the_allow_list(client):
    build_record()
    oldest = client.get("/statements/", {"sort": "date"}).context["page_obj"].object_list
    assert [s.date for s in oldest] == sorted(s.date for s in oldest)
    response = client.get("/statements/", {"sort": "summary"})
    assert response.status_code == 200
    assert "Sort by" in response.content.decode() and "was ignored" in response.content.decode()


def test_pagination_keeps_the_filters(client):
    source = SourceFactory()
    for i in range(STATEMENTS_PER_PAGE + 2):
        StatementFactory(stance=Stance.OPPOSES, source=source, date=D(2024, 1, 1 + i % 28))
    StatementFactory(stance=Stance.SUPPORTS)
    response = client.get("/statements/", {"stance": "opposes", "sort": "date"})
    html = response.content.decode()
    assert 'href="?stance=opposes&amp;sort=date&amp;page=2"' in html
    second = client.get("/statements/", {"stance": "opposes", "sort": "date", "page": 2})
    assert len(listed(second)) == 2
    assert 'href="?stance=opposes&amp;sort=date&amp;page=1"' in second.content.decode()


def counted(client, params):
    """The list's count, whether it counted statements for it, and the number it holds."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/statements/", params)
    counted_statements = any(
        "COUNT(" in q["sql"] and 'FROM "positions_statement"' in q["sql"] for q in queries
    )
    held = response.context["filter"].qs.count()
    return response.context["page_obj"].paginator.count, counted_statements, held


FILTERS_COUNTED_BEFOREHAND = [{}, {"stance": "opposes"}, {"question": "ratification"}]


@pytest.mark.parametrize("staff", [False, True], ids=["reader", "staff"])
def test_the_count_of_a_list_filtered_by_question_and_stance_is_read_not_counted(client, staff):
    record = build_record()
    if staff:
        client.force_login(UserFactory(is_staff=True))
    for params in [
        *FILTERS_COUNTED_BEFOREHAND,
        {"question": "ratification", "stance": "opposes", "sort": "date"},
        {"stance": "nonsense"},  # ignored, said so: the whole list's count
    ]:
        params = {
            k: record.ratification.pk if v == "ratification" else v for k, v in params.items()
        }
        count, counted_statements, held = counted(client, params)
        assert (count, counted_statements) == (held, False), params
    for params in [
        {"kind": ActorKind.LEGISLATOR},
        {"q": "surveillance"},
        {"date_from": "2024-09-01"},
    ]:
        count, counted_statements, held = counted(client, params)
        assert (count, counted_statements) == (held, True), params


def test_the_count_follows_a_statement_unpublished_moved_and_deleted(client):
    record = build_record()
    letter = record.statements["letter"]
    on_each = {"adoption": record.adoption.pk, "ratification": record.ratification.pk}

    def counts():
        every = {"all": counted(client, {})}
        every.update((name, counted(client, {"question": pk})) for name, pk in on_each.items())
        for name, (count, _counted_statements, held) in every.items():
            assert count == held, name
        return {name: count for name, (count, _, _) in every.items()}

    before = counts()
    with writes.writing():
        letter.status = StatementStatus.DRAFT
        writes.save(letter)
    assert counts() == {
        **before,
        "all": before["all"] - 1,
        "ratification": before["ratification"] - 1,
    }
    with writes.writing():
        letter.status = StatementStatus.PUBLISHED
        letter.question = record.adoption
        writes.save(letter)
    assert counts() == {
        **before,
        "adoption": before["adoption"] + 1,
        "ratification": before["ratification"] - 1,
    }
    with writes.writing():
        writes.delete(letter)
    assert counts() == {
        **before,
        "all": before["all"] - 1,
        "ratification": before["ratification"] - 1,
    }


def test_the_country_filter_offers_any_country_once(client):
    build_record()
    for url in ("/statements/", "/actors/"):
        html = client.get(url).content.decode()
        assert html.count(">Any country</option>") == 1, url


def test_unknown_or_ignored_parameters_are_not_filters(client):
    build_record()
    for url in (
        "/statements/?utm_source=x&foo=bar",
        "/statements/?stance=nonsense",
        "/actors/?utm_source=x",
        "/actors/?stance=opposes",  # a stance needs a question: ignored, and said so
    ):
        response = client.get(url)
        assert response.context["filtered"] is False, url
        assert "the filters" not in response.content.decode().split("</form>")[1][:300], url
    assert client.get("/statements/?stance=opposes").context["filtered"] is True
    assert client.get("/actors/?kind=company").context["filtered"] is True


def test_filtered_statements_say_the_downloads_hold_everything(client):
    record = build_record()
    plain = client.get("/statements/").content.decode()
    assert "the filters above do not apply" not in plain
    html = client.get("/statements/", {"question": record.ratification.pk}).content.decode()
    assert "These files hold every public statement: the filters above do not apply" in html
    assert f"/topics/{record.topic.slug}/{record.ratification.slug}/statements.csv" in html
