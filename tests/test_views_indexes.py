"""The indexes of sources and conditions: public ones only, page by page, linked from every page."""

import pytest

from positions.models import Actor, ActorKind, Source, Stance, StatementStatus
from tests.builders import build_record
from tests.factories import ConditionFactory, SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db


def test_the_source_index_lists_public_sources_newest_first(client):
    record = build_record()
    response = client.get("/sources/")
    assert response.status_code == 200
    listed = list(response.context["page_obj"].object_list)
    assert listed == [record.sources["cio"], record.sources["report"], record.sources["letter"]]
    assert "Draft-only source" not in response.content.decode()


def test_the_source_index_counts_the_public_sources(client):
    record = build_record()
    SourceFactory(title="Cited by nothing yet")
    count = client.get("/sources/").context["page_obj"].paginator.count
    public = Source.objects.exclude(pk__in=Source.objects.cited_by_no_public_statement())
    assert count == public.count() == len(record.sources)
    assert Source.objects.filter(pk=record.sources["cio"].pk).public_count() == 1


def test_the_condition_index_lists_public_conditions_by_text(client):
    record = build_record()
    secret = ConditionFactory(text="Secret demand")
    StatementFactory(stance=Stance.CONDITIONAL, conditions=[secret], status=StatementStatus.DRAFT)
    response = client.get("/conditions/")
    assert list(response.context["page_obj"].object_list) == [record.condition]
    assert "Secret demand" not in response.content.decode()


def test_the_indexes_go_page_by_page(client):
    for number in range(55):
        StatementFactory(source=SourceFactory(title=f"Source {number:02}", published_on=None))
    first, second = client.get("/sources/"), client.get("/sources/", {"page": 2})
    assert len(first.context["page_obj"].object_list) == 50
    assert len(second.context["page_obj"].object_list) == 5


def test_every_page_links_the_indexes_and_the_sitemap_lists_them(client):
    build_record()
    html = client.get("/").content.decode()
    assert 'href="/sources/"' in html and 'href="/conditions/"' in html
    sitemap = client.get("/sitemap-pages.xml")
    assert "/sources/</loc>" in sitemap.content.decode()
    assert "/conditions/</loc>" in sitemap.content.decode()


def test_the_condition_page_has_a_breadcrumb_to_the_index(client):
    record = build_record()
    html = client.get(record.condition.get_absolute_url()).content.decode()
    crumb = html[html.index('class="breadcrumbs"') :]
    assert 'href="/conditions/"' in crumb[: crumb.index("</nav>")]


def test_a_list_counts_its_records_with_thousands_grouped(client):
    Actor.objects.bulk_create(
        Actor(name=f"Actor {n}", slug=f"actor-{n}", kind=ActorKind.NGO) for n in range(1234)
    )
    response = client.get("/actors/")
    assert "1,234 actors." in response.content.decode()
