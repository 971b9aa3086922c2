"""
Every public page runs a fixed number of queries: the same on the small record and on one
twenty times larger. The numbers are pinned; each page's view lists what they are.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions.models import Statement
from tests.builders import build_record, grow
from tests.factories import FormalActFactory

pytestmark = pytest.mark.django_db

BOARD = "/topics/un-convention-against-cybercrime/ratification-by-the-united-states/"

# url (with filters, where a page has them) -> queries. What they are, per page:
PINNED = {
    # topics count, topics page, their questions, tallies, latest statements + signatories
    "/": 6,
    # topic, questions, tallies, latest statements + signatories
    "/topics/un-convention-against-cybercrime/": 5,
    # the topic's questions (with the asked one), countries for the filter, the first
    # positions of each stance (ranked, then loaded), the chart's series (none when its piece
    # is stored: the question's query reads what it is keyed by), the conditions of the
    # deciding statements (which the cards show too, as of the board's date), the shown
    # actors' formal acts on the topic (asked only when an act on it is published, as in
    # `record_with_an_act`), the states' positions for the map (maps.board_context), the
    # split by group (groups.py: one GROUP BY, whatever the split), and the tally's
    # composition by actor kind (a GROUP BY stance and kind), which the split by kind, the
    # default, gives without a query of its own
    BOARD: 9,
    BOARD + "?kind=company&country=US&as_of=2024-10-30": 9,
    BOARD + "?split=kind&group=company": 9,
    BOARD + "?split=country&group=US": 10,
    BOARD + "?split=bloc&as_of=2024-10-30": 10,
    BOARD + "?split=bloc&group=~none&stance=opposes": 10,
    # one stance page by page: its count and page instead of the ranking and its rows
    BOARD + "?stance=opposes&page=1": 9,
    BOARD + "?stance=conditional&as_of=2024-10-30": 9,
    # the map by formal status: the topic's acts serve the rows and the map
    BOARD + "?map=status": 8,
    # countries, questions for the filter (rendered), count, page of actors
    "/actors/": 4,
    # + the question (validation); the current positions are a subquery of the page's
    "/actors/?q=cis&kind=company&question={ratification}&stance=opposes": 5,
    # actor+parent (and whether it has memberships, parts or members, identifiers, formal
    # acts: each asked only then), its memberships, parts and members (one union) or its
    # identifiers, positions, timeline outline, the stamps of the page's statements, the
    # page of statements (not read when their pieces are stored); its formal acts (none
    # here) would be one more
    "/actors/us-administration/": 6,
    "/actors/cisco/": 6,
    # countries, questions for the filter (rendered), count, page, signatories
    "/statements/": 5,
    # the search is a subquery of the count's and the page's, whatever its words and
    # operators (FTS5 on SQLite, text search on PostgreSQL): countries, questions, count,
    # page, signatories
    "/statements/?q=human+rights": 5,
    '/statements/?q="human+rights"+-cisco+or+ransomware+the+-"of"+NEAR(*': 5,
    # + the question (validation)
    "/statements/?q=human&stance=opposes&kind=company&country=US&source_kind=news_report"
    "&date_from=2024-01-01&date_to=2024-12-31&sort=-date&question={ratification}": 6,
    # statement+question+topic+source, signatories, conditions, its history (last correction)
    "/statements/{letter}/": 4,
    # source, count, page of statements, signatories
    "/sources/{cio}/": 4,
    # condition, the ids of its statements, the page of them, signatories, and its status
    # history (with each change's source; one more since the history is kept)
    "/conditions/human-rights-safeguards/": 5,
    # the indexes of public sources and conditions: count, page; the sources' count is every
    # source's less the hidden ones' (two counts that join nothing)
    "/sources/": 3,
    "/conditions/": 2,
    "/methodology/": 0,
    # count, page of retracted statements, signatories
    "/corrections/": 3,
    # the index: per kind of record (topics, questions, actors, statements, sources,
    # conditions) its highest id, for the number of pages
    "/sitemap.xml": 6,
    # a page of one kind: the highest id, the page of records
    "/sitemap-statements.xml": 2,
    "/sitemap-questions.xml": 2,
    # one stance of a board, page by page: its count and page instead of the ranking
    BOARD + "?stance=opposes": 9,
    # the topic, the blocs for the filter, its published acts with their actors and sources
    "/topics/un-convention-against-cybercrime/status/": 3,
    "/topics/un-convention-against-cybercrime/status/?act=reservation&sort=-consent"
    "&as_of=2024-10-30&region=Americas": 3,
    # + the bloc's members on that day
    "/topics/un-convention-against-cybercrime/status/?bloc=no-such-bloc&region=Europe": 3,
}


def fill(url, record):
    return url.format(
        ratification=record.ratification.pk,
        letter=record.statements["letter"].pk,
        cio=record.sources["cio"].pk,
    )


def count_queries(client, url):
    """The queries of `url` computed with the cache empty: no stored piece to spare one."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def record_with_an_act():
    """The demo's shape, with a state's signature on its topic: the boards read their rows'
    formal status only on a topic with a published act."""
    record = build_record()
    FormalActFactory(topic=record.topic)
    return record


def test_it_runs_the_same_pinned_number_of_queries_on_twenty_times_the_data(client):
    record = record_with_an_act()
    small = {url: count_queries(client, fill(url, record)) for url in PINNED}
    statements = Statement.objects.count()
    grow(record, 20)
    # The larger data set really is twenty times larger (one build for both checks).
    assert Statement.objects.count() >= 20 * statements
    large = {url: count_queries(client, fill(url, record)) for url in PINNED}
    assert small == PINNED
    assert large == PINNED


def test_it_pins_the_statement_search_with_django_assert_num_queries(
    client, django_assert_num_queries
):
    build_record()
    url = "/statements/?q=human+rights"
    # countries and questions for the filter, the count, the page (the search a subquery of
    # both), the page's signatories
    with django_assert_num_queries(PINNED[url]):
        response = client.get(url)
    assert response.context["page_obj"].paginator.count > 0


def test_it_pins_the_board_with_django_assert_num_queries(client, django_assert_num_queries):
    record_with_an_act()
    with django_assert_num_queries(PINNED[BOARD]):
        client.get(BOARD)


def test_a_board_on_a_topic_without_formal_acts_asks_for_none(client, django_assert_num_queries):
    build_record()
    with django_assert_num_queries(PINNED[BOARD] - 1):
        client.get(BOARD)
