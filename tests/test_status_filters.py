"""
The status table filtered by region (the country's region or subregion, positions/regions.py)
and by bloc (memberships on the day shown), alone, together and with the act filter; junk
refused with a message; the query count pinned and flat with the number of states.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions import regions
from positions.models import ActKind, ActorKind
from tests.factories import (
    ActorFactory,
    FormalActFactory,
    MembershipFactory,
    SourceFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db
D = datetime.date
URL = "/topics/treaty/status/"


@pytest.fixture
def case():
    """
    Five signatories: France, Germany and Hungary (Europe), Brazil (the Americas), Kenya
    (Africa). On 1 September 2025 the EU has France and Germany (Hungary left in June 2025);
    the G77 has Brazil and Kenya, and Kenya only from 1 August 2025.
    """
    topic = TopicFactory(title="Treaty", slug="treaty")
    source = SourceFactory()
    eu = ActorFactory(name="European Union", slug="eu", kind=ActorKind.INTERGOVERNMENTAL)
    g77 = ActorFactory(name="Group of 77", slug="g77", kind=ActorKind.INTERGOVERNMENTAL)
    states = {}
    for name, code in [("France", "FR"), ("Germany", "DE"), ("Hungary", "HU"),
                       ("Brazil", "BR"), ("Kenya", "KE")]:  # fmt: skip
        states[name] = ActorFactory(name=name, slug=name.lower(), kind=ActorKind.STATE,
                                    country=code)  # fmt: skip
        FormalActFactory(actor=states[name], topic=topic, date=D(2025, 1, 10), source=source)
    FormalActFactory(
        actor=states["France"], topic=topic, kind=ActKind.RATIFICATION, date=D(2025, 3, 1),
        source=source,
    )  # fmt: skip
    MembershipFactory(member=states["France"], organization=eu)
    MembershipFactory(member=states["Germany"], organization=eu, start_date=D(1958, 1, 1))
    MembershipFactory(member=states["Hungary"], organization=eu, end_date=D(2025, 6, 30))
    MembershipFactory(member=states["Brazil"], organization=g77)
    MembershipFactory(member=states["Kenya"], organization=g77, start_date=D(2025, 8, 1))
    return topic, states


def names(response):
    return [row.actor_name for row in response.context["rows"]]


def test_the_region_data_covers_every_iso_country():
    import pycountry

    assert all(regions.region_of(c.alpha_2) for c in pycountry.countries)
    assert regions.region_of("FR") == ("Europe", "Western Europe")
    assert ("Europe", "Europe") in regions.region_choices()


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"region": "Europe"}, ["France", "Germany", "Hungary"]),
        ({"region": "Eastern Africa"}, ["Kenya"]),  # a subregion
        ({"region": "Americas"}, ["Brazil"]),
        ({"bloc": "eu"}, ["France", "Germany"]),  # Hungary had left
        ({"bloc": "g77"}, ["Brazil", "Kenya"]),
        ({"bloc": "g77", "as_of": "2025-07-01"}, ["Brazil"]),  # Kenya not yet a member
        ({"bloc": "eu", "as_of": "2025-06-30"}, ["France", "Germany", "Hungary"]),
        ({"bloc": "g77", "region": "Africa"}, ["Kenya"]),
        ({"bloc": "eu", "act": "consent"}, ["France"]),
    ],
)
def test_it_filters_by_region_and_by_bloc_on_the_day_shown(client, case, params, expected):
    response = client.get(URL, {"as_of": "2025-09-01", **params})
    assert names(response) == expected
    html = response.content.decode()
    assert f"{len(expected)} shown by the filter" in html
    # The totals and the map are the whole topic's, whatever the filter.
    assert response.context["participant_count"] == 5
    assert response.context["totals"].signatures == 5


def test_the_filters_offer_the_blocs_with_members_and_every_region(client, case):
    html = client.get(URL).content.decode()
    assert '<option value="eu">European Union</option>' in html
    assert '<option value="Africa">Africa</option>' in html
    assert '<option value="Western Europe">Europe: Western Europe</option>' in html


@pytest.mark.parametrize("param", ["region", "bloc"])
@pytest.mark.parametrize("value", ["Atlantis", "\x00", "x" * 5000, "%"])
def test_a_junk_region_or_bloc_is_refused_with_a_message(client, case, param, value):
    response = client.get(URL, {param: value})
    assert response.status_code == 200
    assert len(names(response)) == 5
    assert "This filter was ignored" in response.content.decode()


def test_its_query_count_is_pinned_and_flat_with_the_number_of_states(client, case):
    topic, _states = case
    url = f"{URL}?bloc=g77&region=Africa&act=signature"

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        return len(queries), response

    small, _response = count()
    g77 = ActorFactory(slug="g77-more", kind=ActorKind.INTERGOVERNMENTAL)
    for n in range(40):
        state = ActorFactory(kind=ActorKind.STATE, country=["KE", "NG", "FR"][n % 3])
        FormalActFactory(actor=state, topic=topic)
        MembershipFactory(member=state, organization=g77 if n % 2 else _g77())
    large, response = count()
    assert len(names(response)) == 1 + len([n for n in range(40) if n % 2 == 0 and n % 3 < 2])
    # the topic, the blocs for the filter, the topic's acts, the bloc's members on the day
    assert small == large == 4


def _g77():
    from positions.models import Actor

    return Actor.objects.get(slug="g77")
