"""
Embeddable pages (`/embed/...`): small pieces of a board that other sites put in an
`<iframe>`. These pages alone may be framed by other sites: each sends its own CSP
`frame-ancestors` (the `EMBED_FRAME_ANCESTORS` setting, every site by default) and no
X-Frame-Options, while every other page keeps `frame-ancestors 'none'` and
`X-Frame-Options: DENY`. They set no cookie (no form, no session) and show no site
navigation; links open the tracker in a new tab. Cached like the pages.

Three kinds, each a view decorated with `@embeddable` and a template in
templates/positions/embed/: a question's tally, its whip count (questions with a deciding
body) and its world map. Every link in them opens the tracker in a new tab (`<base
target="_blank">`), since a click inside a frame would otherwise replace the article's frame.
"""

import functools

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from . import institutions, maps, stances
from .caching import cached_page
from .exports import public_url
from .models import Question


def embeddable(view):
    """A cached page that other sites may frame (the CSP is set on cached answers too)."""

    @functools.wraps(view)
    def framed(request, *args, **kwargs):
        response = page(request, *args, **kwargs)
        response._csp_replace = {"frame-ancestors": list(settings.EMBED_FRAME_ANCESTORS)}
        return response

    page = require_safe(cached_page(view))
    return xframe_options_exempt(framed)


def embedded_question(topic_slug, slug):
    return get_object_or_404(
        Question.objects.select_related("topic", "deciding_body"), topic__slug=topic_slug, slug=slug
    )


def embed_context(question, **context):
    return {
        "question": question,
        "topic": question.topic,
        "as_of": timezone.localdate(),
        "board_url": public_url(question.get_absolute_url()),
        **context,
    }


@embeddable
def question_tally(request, topic_slug, slug):
    """A question's current tally: the bar, the counts, a link to the board."""
    question = embedded_question(topic_slug, slug)
    counts = stances.tally(question)
    return render(
        request,
        "positions/embed/tally.html",
        embed_context(
            question,
            board_tally={s: counts.get(s, 0) for s in stances.STANCE_ORDER},
            total=sum(counts.values()),
        ),
    )


@embeddable
def question_whip_count(request, topic_slug, slug):
    """The whip count of a question its deciding body decides: the bar against the threshold,
    the counts and the table (the board's, without the conditions and group splits)."""
    question = embedded_question(topic_slug, slug)
    whip = institutions.whip_count(question)
    if whip is None:
        raise Http404("This question names no deciding body: it has no whip count.")
    return render(request, "positions/embed/whip.html", embed_context(question, whip=whip))


@embeddable
def question_map(request, topic_slug, slug):
    """The board's world map: states by stance, or with `?map=status` by formal status."""
    question = embedded_question(topic_slug, slug)
    world = maps.board_context(request, question, None, [])["map"]
    return render(request, "positions/embed/map.html", embed_context(question, map=world))
