"""
Junk query parameters never give a 500, on every public page (hypothesis-driven).

The pages are found from the URLconf and built from real objects (tests/hostile.py), and the
parameter names from each page's own forms and links, so new pages and filters are fuzzed
as they are added.
"""

from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.hostile import build_hostile_record, public_patterns, public_url

pytestmark = pytest.mark.django_db

# Names readers' tools and bookmarks commonly send, besides those the page shows.
COMMON_NAMES = [
    "q", "page", "sort", "order", "o", "as_of", "date", "kind", "country", "stance",
    "question", "topic", "actor", "source_kind", "status", "date_from", "date_to",
    "date_after", "date_before", "format", "per_page", "limit", "offset", "cursor", "year",
]  # fmt: skip

NASTY_VALUES = [
    "", " ", "\x00", "a\x00b", "0", "-1", "-0", "1e309", "NaN", "inf", "0x10", "1_000",
    str(2**63), str(-(2**63) - 1), "9" * 400, "2024-02-30", "2024-13-01", "0000-00-00",
    "0001-01-01", "9999-12-31", "10000-01-01", "-2024-01-01", "2024-01-01T25:00",
    "' OR 1=1 --", "%", "%%", "_", "\\", "<script>alert(1)</script>", "../../etc/passwd",
    "None", "null", "[]", "{}", "\ud7ff", "\u202e", "\ufeff", "🙂" * 50, "a" * 5000,
]  # fmt: skip


class ParameterNames(HTMLParser):
    """The names (and offered values) of a page's form fields and of its links' queries."""

    def __init__(self):
        super().__init__()
        self.names, self.values = set(), set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in {"input", "select", "textarea", "button"} and attributes.get("name"):
            self.names.add(attributes["name"])
            if attributes.get("value"):
                self.values.add(attributes["value"])
        if tag == "option" and attributes.get("value") is not None:
            self.values.add(attributes["value"])
        if tag == "a" and "?" in (attributes.get("href") or ""):
            for name, value in parse_qsl(urlsplit(attributes["href"]).query):
                self.names.add(name)
                self.values.add(value)


def parameters_of(response):
    parser = ParameterNames()
    if response["Content-Type"].startswith("text/html"):
        parser.feed(response.content.decode())
    return sorted(parser.names | set(COMMON_NAMES)), sorted(parser.values)


def query_strategy(names, offered_values):
    value = st.one_of(
        st.text(max_size=40),  # any code point but surrogates, NUL included
        st.integers(min_value=-(10**40), max_value=10**40).map(str),
        st.sampled_from(NASTY_VALUES),
        st.sampled_from(offered_values or [""]),
    )
    name = st.one_of(st.sampled_from(names), st.text(min_size=1, max_size=12))
    return st.lists(st.tuples(name, value), max_size=6)


PATTERNS = public_patterns()


def fuzz(client, pattern, **settings):
    """
    Request the page with junk queries: never a 500, only the codes a page may give. First
    every name with each nasty value, all names at once (the same requests on every run, so
    a few examples still reach every parameter), then the queries Hypothesis generates.
    """
    record = build_hostile_record()
    url = public_url(pattern, record, client)
    names, offered_values = parameters_of(client.get(url))

    def request_with(query):
        response = client.get(f"{url}?{urlencode(query)}")
        assert response.status_code < 500, query
        assert response.status_code in {200, 301, 302, 400, 404}, (response.status_code, query)

    for value in NASTY_VALUES:
        request_with([(name, value) for name in names])

    @hypothesis_settings(
        deadline=None,
        # One record for all examples: the pages only read it.
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        **settings,
    )
    @given(query=query_strategy(names, offered_values))
    def request_with_generated(query):
        request_with(query)

    request_with_generated()


@pytest.mark.parametrize("pattern", PATTERNS, ids=str)
def test_junk_query_parameters_never_give_a_server_error(client, pattern):
    """As many examples as the Hypothesis profile gives (tests/conftest.py): a few by default."""
    fuzz(client, pattern)


@pytest.mark.slow
@pytest.mark.parametrize("pattern", PATTERNS, ids=str)
def test_junk_query_parameters_never_give_a_server_error_in_many_examples(client, pattern):
    """The exhaustive run (`make test-slow`): the `thorough` profile's number of examples."""
    fuzz(client, pattern, max_examples=hypothesis_settings.get_profile("thorough").max_examples)


def test_the_fuzzer_covers_every_public_page():
    """The harness finds pages from the URLconf: it covers more than the home page."""
    names = {str(pattern) for pattern in PATTERNS}
    assert {"positions:home", "positions:question", "positions:statement_list"} <= names
