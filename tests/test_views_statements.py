"""The statement list (filters, search, sorting, pagination) and the statement page."""

import datetime

import pytest
from django.utils import timezone

from positions.models import ActorKind, SourceKind, Stance
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


def test_the_list_leaves_room_for_downloads_without_dead_links(client):
    build_record()
    html = client.get("/statements/").content.decode()
    assert ".csv" not in html and ".json" not in html and "atom" not in html.lower()


# --- statement page -------------------------------------------------------------------------


def test_the_statement_page_gives_the_full_citation(client):
    record = build_record()
    statement = record.statements["letter"]
    html = client.get(statement.get_absolute_url()).content.decode()
    source = statement.source
    for text in (
        source.title,
        source.publisher,
        "29 October 2024",
        f'href="{source.url}"',
        statement.quote,
        "second paragraph",
        "The actor&#x27;s own words",
        "Ron Wyden",
        "Tim Kaine",
        "Press release",
    ):
        assert text in html, text


def test_the_statement_page_links_the_archive_copy(client):
    record = build_record()
    html = client.get(record.statements["usgov_adoption"].get_absolute_url()).content.decode()
    assert 'href="https://web.archive.org/web/2024/https://cio.example.org/un"' in html


def test_a_retracted_statement_is_shown_as_retracted_with_its_note_and_date(client):
    record = build_record()
    response = client.get(record.statements["retracted"].get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "Retracted on" in html and "5 November 2024" in html
    assert "does not say the DoJ opposes adoption" in html
    assert "no longer counts" in html


def test_it_shows_when_first_published_and_last_corrected(client):
    record = build_record()
    html = client.get(record.statements["usgov_adoption"].get_absolute_url()).content.decode()
    assert f'First published</dt><dd><time datetime="{timezone.now():%Y-%m-%d}' in html
    assert "Last corrected</dt><dd>Never" in html
    retracted = client.get(record.statements["retracted"].get_absolute_url()).content.decode()
    assert "Last corrected</dt><dd><time" in retracted


def test_an_edit_after_publication_shows_as_last_corrected(client):
    statement = StatementFactory(first_published_at=timezone.now() - datetime.timedelta(days=3))
    statement.summary = "A clarified summary."
    statement.save()
    html = client.get(statement.get_absolute_url()).content.decode()
    assert f"{timezone.localdate():%-d %B %Y}</time></dd>" in html.split("Last corrected")[1]


def test_a_draft_is_404_for_readers_and_a_preview_for_staff(client):
    record = build_record()
    url = record.statements["draft"].get_absolute_url()
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(username="reader"))
    assert client.get(url).status_code == 404
    client.force_login(UserFactory(username="staff", is_staff=True))
    response = client.get(url)
    assert response.status_code == 200
    assert "Only staff can see this preview" in response.content.decode()
    assert '<meta name="robots" content="noindex">' in response.content.decode()


def test_an_unknown_statement_is_404(client):
    assert client.get("/statements/999999/").status_code == 404
