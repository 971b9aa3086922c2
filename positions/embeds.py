"""
Embeddable pages (`/embed/...`): small pieces of a board that other sites put in an
`<iframe>`. These pages alone may be framed by other sites: each sends its own CSP
`frame-ancestors` (the `EMBED_FRAME_ANCESTORS` setting, every site by default) and no
X-Frame-Options, while every other page keeps `frame-ancestors 'none'` and
`X-Frame-Options: DENY`. They set no cookie (no form, no session) and show no site
navigation; links open the tracker in a new tab. Cached like the pages.

More kinds (a whip count, a map) follow the same pattern: a view decorated with
`@embeddable`, a template in templates/positions/embed/.
"""

import functools

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from . import stances
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


@embeddable
def question_tally(request, topic_slug, slug):
    """A question's current tally: the bar, the counts, a link to the board."""
    question = get_object_or_404(
        Question.objects.select_related("topic"), topic__slug=topic_slug, slug=slug
    )
    counts = stances.tally(question)
    return render(
        request,
        "positions/embed/tally.html",
        {
            "question": question,
            "topic": question.topic,
            "board_tally": {s: counts.get(s, 0) for s in stances.STANCE_ORDER},
            "total": sum(counts.values()),
            "as_of": timezone.localdate(),
            "board_url": public_url(question.get_absolute_url()),
        },
    )
