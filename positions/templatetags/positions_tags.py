"""Reusable page pieces: stance badge, tally bar, source citation, pagination, fragments."""

import datetime

from django import template
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from .. import bulkdata, fragments
from ..models import ActorKind, Stance
from ..stances import STANCE_ORDER

register = template.Library()

# A stance is never told by colour alone: each has a symbol and its words too.
STANCE_SYMBOLS = {
    Stance.SUPPORTS: "✓",
    Stance.CONDITIONAL: "◐",
    Stance.OPPOSES: "✗",
    Stance.UNDECIDED: "?",
}


RETRACTED_MARK = mark_safe(' <span class="stance__retracted">(retracted)</span>')  # noqa: S308


@register.simple_tag
def stance_badge(stance, retracted=False):
    """The stance in words with its symbol. Written here, not in a template: lists show one
    per statement, and an inclusion tag renders a template each time."""
    stance = Stance(stance)
    return format_html(
        '<span class="stance stance--{}{}" title="{}"><span class="stance__icon" '
        'aria-hidden="true">{}</span> {}{}</span>',
        stance.value,
        " stance--retracted" if retracted else "",
        stance.definition,
        STANCE_SYMBOLS[stance],
        stance.label,
        RETRACTED_MARK if retracted else "",
    )


# What a tally's composition calls a number of actors of a kind: (one, several).
KIND_NOUNS = {
    ActorKind.STATE: ("state", "states"),
    ActorKind.GOVERNMENT: ("government or agency", "governments or agencies"),
    ActorKind.LEGISLATOR: ("legislator", "legislators"),
    ActorKind.LEGISLATIVE_GROUP: ("legislative group", "legislative groups"),
    ActorKind.COMPANY: ("company", "companies"),
    ActorKind.NGO: ("NGO", "NGOs"),
    ActorKind.INTERGOVERNMENTAL: ("intergovernmental body", "intergovernmental bodies"),
    ActorKind.EXPERT: ("expert", "experts"),
    ActorKind.MEDIA: ("media outlet", "media outlets"),
}


def kinds_in_words(kinds):
    """`[(kind, number)]` as readers say it: '6 legislators, 1 company, 1 NGO'."""
    return ", ".join(
        f"{number} {KIND_NOUNS[ActorKind(kind)][0 if number == 1 else 1]}" for kind, number in kinds
    )


@register.inclusion_tag("includes/tally_bar.html")
def tally_bar(counts, caption="", composition=None):
    """
    A horizontal bar of actors per stance, with the numbers written out beside it, and
    with `composition` (`stances.composition`) what kinds of actor each number counts.
    """
    total = sum(counts.get(s, 0) for s in STANCE_ORDER)
    segments, offset = [], 0.0
    for stance in STANCE_ORDER:
        count = counts.get(stance, 0)
        share = 100.0 * count / total if total else 0.0
        segments.append(
            {
                "stance": Stance(stance),
                "symbol": STANCE_SYMBOLS[stance],
                "count": count,
                "x": round(offset, 3),
                "width": round(share, 3),
                "kinds": kinds_in_words((composition or {}).get(stance, [])) if count else "",
            }
        )
        offset += share
    return {"segments": segments, "total": total, "caption": caption}


@register.inclusion_tag("includes/source_citation.html")
def source_citation(source, statement=None):
    return {"source": source, "statement": statement}


@register.inclusion_tag("includes/pagination.html")
def pagination(page_obj, query_string=""):
    """Previous/next links that keep the current filters (query_string has no `page`)."""
    return {"page_obj": page_obj, "query_string": query_string}


@register.simple_tag
def stance_symbol(stance):
    return STANCE_SYMBOLS[Stance(stance)]


@register.simple_tag(takes_context=True)
def canonical_url(context, path=None):
    """The absolute address of this page without its query string (or of `path`)."""
    request = context["request"]
    return request.build_absolute_uri(path or request.path)


@register.simple_tag
def statement_date(statement):
    """The date as precisely as the evidence gives it ('November 2024'), machine-readable too."""
    machine = {"year": "%Y", "month": "%Y-%m"}.get(statement.date_precision, "%Y-%m-%d")
    return format_html(
        '<time datetime="{}">{}</time>', statement.date.strftime(machine), statement.date_display
    )


@register.simple_tag
def source_link(source, prefix="", limit=None):
    """
    A link to the document itself; a source that is not online (no URL) links to its page
    here instead, so there is never an empty or dead link.
    """
    text = prefix + (Truncator(source.title).chars(limit) if limit else source.title)
    if source.url:
        return format_html(
            '<a href="{}" rel="noopener noreferrer external">{}</a>', source.url, text
        )
    return format_html('<a href="{}">{}</a>', source.get_absolute_url(), text)


@register.simple_tag
def bulk_file(name):
    """
    ' (12.4 MB, gzip 2.1 MB; as of 2 Dec 2026, 01:40 UTC)' beside a whole-data-set download
    once the background job has written its file (positions/bulkdata.py), else nothing: the
    download is then computed when asked for.
    """
    info = bulkdata.info(name)
    if info is None:
        return ""
    as_of = timezone.localtime(info["as_of"])
    return format_html(
        ' <span class="muted">({}, gzip <a href="{}">{}</a>; as of <time datetime="{}">{}</time>)'
        "</span>",
        filesizeformat(info["size"]),
        packed_url(name),
        filesizeformat(info["gzip_size"]),
        as_of.isoformat(),
        date_format(as_of, "j M Y, H:i T"),
    )


def packed_url(name):
    """The address of a bulk file's gzipped copy."""
    special = {"all.json": "positions:data_all_gz", "popolo.json": "positions:popolo_gz"}
    if name in special:
        return reverse(special[name])
    kind, fmt = name.rsplit(".", 1)
    return reverse("positions:data_download_gz", args=[kind, fmt])


class FragmentNode(template.Node):
    def __init__(self, name, values, nodelist):
        self.name, self.values, self.nodelist = name, values, nodelist

    def render(self, context):
        values = [value.resolve(context) for value in self.values]
        request = context.get("request")
        return fragments.render(request, self.name, values, lambda: self.nodelist.render(context))


@register.tag("fragment")
def fragment(parser, token):
    """
    `{% fragment "name" record value ... %}...{% endfragment %}`: the body rendered once per
    key made of the records and values given (positions/fragments.py says what a key holds:
    pass everything the body reads).
    """
    bits = token.split_contents()
    if len(bits) < 3 or bits[1][0] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError(
            '{% fragment "name" value ... %} takes a quoted name and what the body shows.'
        )
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    values = [parser.compile_filter(bit) for bit in bits[2:]]
    return FragmentNode(bits[1][1:-1], values, nodelist)


@register.filter
def board_row_values(position):
    """What the board's view set on a row, for the row's fragment key."""
    return fragments.board_row_values(position)


@register.simple_tag
def sitemap_urls(urlset):
    """
    The `<url>` elements of a sitemap page, written out in Python: Django's own template
    (django/contrib/sitemaps/templates/sitemap.xml) writes the same elements, escaped the
    same way, through five template lookups and a date filter per address, most of the time
    of a page of thousands (tests/test_views_seo.py compares the two).
    """
    parts = []
    for url in urlset:
        parts.append(f"<url><loc>{escape(url['location'])}</loc>")
        if url.get("lastmod"):
            parts.append(f"<lastmod>{_sitemap_day(url['lastmod'])}</lastmod>")
        if url.get("changefreq"):
            parts.append(f"<changefreq>{escape(url['changefreq'])}</changefreq>")
        if url.get("priority"):
            parts.append(f"<priority>{escape(url['priority'])}</priority>")
        for alternate in url.get("alternates") or ():
            parts.append(
                f'<xhtml:link rel="alternate" hreflang="{escape(alternate["lang_code"])}" '
                f'href="{escape(alternate["location"])}"/>'
            )
        parts.append("</url>")
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped above


def _sitemap_day(value):
    """`value|date:"Y-m-d"`: a date, or a moment in the current time zone."""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
