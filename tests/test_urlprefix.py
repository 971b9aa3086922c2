"""Addresses built from a template made once (positions/urlprefix.py) equal reverse()'s."""

import pytest
from django.urls import reverse, set_script_prefix
from hypothesis import given
from hypothesis import strategies as st

from positions.urlprefix import page_url

SLUG = st.from_regex(r"\A[-a-zA-Z0-9_]{1,50}\Z")
PK = st.integers(min_value=1, max_value=2**63 - 1)


@given(slug=SLUG, other=SLUG, pk=PK)
def test_it_gives_the_address_reverse_gives(slug, other, pk):
    assert page_url("positions:actor", slug) == reverse("positions:actor", args=[slug])
    assert page_url("positions:question", slug, other) == reverse(
        "positions:question", args=[slug, other]
    )
    assert page_url("positions:statement", pk) == reverse("positions:statement", args=[pk])
    assert page_url("positions:source", pk) == reverse("positions:source", args=[pk])


def test_it_follows_the_script_prefix():
    try:
        set_script_prefix("/tracker/")
        assert page_url("positions:actor", "cisco") == "/tracker/actors/cisco/"
    finally:
        set_script_prefix("/")
    assert page_url("positions:actor", "cisco") == "/actors/cisco/"


def test_an_address_that_does_not_take_the_argument_is_refused():
    with pytest.raises(Exception):  # noqa: B017 - Django's NoReverseMatch
        page_url("positions:home", "cisco")
