"""Titles, descriptions, OpenGraph, canonical links, landmarks and sitemap.xml."""

import datetime
import re

import pytest
from django.template import loader
from django.utils import timezone

from positions import caching
from positions import urls as positions_urls
from positions.models import Statement
from positions.sitemaps import SITEMAPS, RecordSitemap
from tests.builders import BOARD_URL, build_record

pytestmark = pytest.mark.django_db


def public_urls(record):
    return [
        "/",
        record.topic.get_absolute_url(),
        BOARD_URL,
        "/actors/",
        "/actors/cisco/",
        "/statements/",
        record.statements["letter"].get_absolute_url(),
        record.sources["cio"].get_absolute_url(),
        record.condition.get_absolute_url(),
        "/methodology/",
        "/corrections/",
    ]


def test_every_page_has_one_h1_title_description_og_and_canonical(client):
    record = build_record()
    titles = set()
    for url in public_urls(record):
        html = client.get(url).content.decode()
        assert html.count("<h1") == 1, url
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
        assert title.endswith("· Position Tracker"), url
        titles.add(title)
        assert re.search(r'<meta name="description" content="[^"]{20,}">', html), url
        for prop in ("og:title", "og:description", "og:url", "og:type", "og:site_name"):
            assert f'property="{prop}"' in html, (url, prop)
        path = url.split("?")[0]
        assert f'<link rel="canonical" href="http://testserver{path}">' in html, url


def test_every_page_has_landmarks_a_skip_link_and_no_inline_code(client):
    record = build_record()
    for url in public_urls(record):
        html = client.get(url).content.decode()
        assert '<a class="skip-link" href="#main">' in html
        assert '<main id="main"' in html and "<header" in html and "<footer" in html
        assert '<nav aria-label="Main">' in html
        assert "style=" not in html and "<style" not in html and "<script" not in html, url


def test_canonical_drops_the_query_string(client):
    build_record()
    html = client.get("/statements/", {"stance": "opposes"}).content.decode()
    assert '<link rel="canonical" href="http://testserver/statements/">' in html


def test_every_form_control_has_a_label(client):
    build_record()
    for url in ["/actors/", "/statements/", BOARD_URL]:
        html = client.get(url).content.decode()
        controls = re.findall(r"<(?:select|input)\b[^>]*>", html)
        visible = [c for c in controls if 'type="hidden"' not in c]
        assert len(visible) >= 3, url
        for control in visible:
            control_id = re.search(r'\bid="([^"]+)"', control).group(1)
            assert f'<label for="{control_id}">' in html, (url, control_id)


def sitemap_text(client):
    """Every sitemap the index at /sitemap.xml points to, page after page, joined."""
    index = client.get("/sitemap.xml")
    assert index.status_code == 200
    assert "<sitemapindex" in index.content.decode()
    texts = []
    for loc in re.findall(r"<loc>http://testserver([^<]+)</loc>", index.content.decode()):
        response = client.get(loc.replace("&amp;", "&"))
        assert response.status_code == 200, loc
        texts.append(response.content.decode())
    return "".join(texts)


def test_the_sitemap_lists_public_pages_and_no_draft(client):
    record = build_record()
    xml = sitemap_text(client)
    for url in public_urls(record):
        assert f"<loc>http://testserver{url}</loc>" in xml, url
    assert record.statements["retracted"].get_absolute_url() in xml
    assert f"<loc>http://testserver{record.statements['draft'].get_absolute_url()}</loc>" not in xml
    draft_source = record.statements["draft"].source.get_absolute_url()
    assert f"<loc>http://testserver{draft_source}</loc>" not in xml


def test_the_sitemap_is_split_into_pages_none_longer_than_the_limit(client, monkeypatch):
    record = build_record()
    monkeypatch.setattr(RecordSitemap, "limit", 2)
    index = client.get("/sitemap.xml").content.decode()
    assert "/sitemap-statements.xml?p=2</loc>" in index
    xml = sitemap_text(client)
    for url in public_urls(record):
        assert f"<loc>http://testserver{url}</loc>" in xml, url
    second = client.get("/sitemap-statements.xml?p=2").content.decode()
    assert second.count("<url>") <= 2
    # Past the highest id (PostgreSQL keeps its id sequences across tests: no fixed number).
    beyond = Statement.objects.order_by("-pk").values_list("pk", flat=True).first() // 2 + 2
    assert client.get(f"/sitemap-statements.xml?p={beyond}").status_code == 404
    assert client.get("/sitemap-statements.xml?p=abc").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_each_sitemap_page_is_what_djangos_own_template_writes(client, monkeypatch):
    build_record()
    pages = [f"/sitemap-{section}.xml" for section in SITEMAPS]
    ours = {page: client.get(page) for page in pages}
    monkeypatch.setattr(caching, "is_cacheable_request", lambda request: False)
    section = next(p for p in positions_urls.urlpatterns if p.name == "sitemap_section")
    monkeypatch.setitem(section.default_args, "template_name", "sitemap.xml")  # Django's own
    for page, response in ours.items():
        assert response.status_code == 200
        assert response.content == client.get(page).content, page


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
def test_the_sitemap_tag_escapes_and_dates_as_djangos_template_does(settings, zone):
    settings.TIME_ZONE = zone
    moment = datetime.datetime(2024, 12, 31, 20, 30, tzinfo=datetime.UTC)
    urlset = [
        {"location": "https://example.org/a?b=1&c=<2>", "lastmod": moment, "changefreq": "",
         "priority": "", "alternates": []},
        {"location": "https://example.org/\"q'", "lastmod": datetime.date(812, 3, 4),
         "changefreq": "daily", "priority": "0.5",
         "alternates": [{"lang_code": "fr&", "location": "https://example.org/fr<"}]},
        {"location": "https://example.org/none", "lastmod": None, "changefreq": None,
         "priority": None},
    ]  # fmt: skip
    with timezone.override(zone):
        ours = loader.render_to_string("positions/sitemap.xml", {"urlset": urlset})
        django = loader.render_to_string("sitemap.xml", {"urlset": urlset})
    assert ours == django
    assert ("2025-01-01" in ours) == (zone == "Pacific/Auckland")
