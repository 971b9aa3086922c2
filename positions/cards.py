"""
Share cards: the PNG image that Open Graph and Twitter cards show when a board, an actor or a
statement is shared. Drawn here with Pillow (the title, the tally bar and its counts), never
fetched from elsewhere, 1200x630 (the size both ask for).

Each card is a page like the others (`caching.cached_page`): stored in the shared cache with
the data version it was drawn at, recomputed after any write, with ETags. Drafts have none.
Drawing takes far longer than the card's queries, so the image is also kept as a fragment
keyed by everything drawn on it (`fragments.reuse`): a card whose text and counts did not
change is not drawn again.
"""

import io
import textwrap

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_safe
from PIL import Image, ImageDraw, ImageFont

from . import fragments, stances
from .caching import cached_page
from .models import Actor, Question, Stance, Statement

WIDTH, HEIGHT = 1200, 630
MARGIN = 64
# The tally bar: left, top, right, bottom (tests read its pixels).
BAR_BOX = (MARGIN, 380, WIDTH - MARGIN, 450)
INK, MUTED, PAPER, EMPTY = "#1b1f24", "#4a5360", "#ffffff", "#eceff3"
# The site's stance colours (static/css/site.css).
STANCE_COLOURS = {
    Stance.SUPPORTS: "#1a6b35",
    Stance.CONDITIONAL: "#8a5300",
    Stance.OPPOSES: "#b0212b",
    Stance.UNDECIDED: "#4f5b6b",
}


def _font(size):
    # Pillow's own font (FreeType), so that a card looks the same on every server.
    return ImageFont.load_default(size=size)


def bar_widths(counts, width):
    """The width of each stance's segment, in STANCE_ORDER; they add up to `width`."""
    total = sum(counts.get(s, 0) for s in stances.STANCE_ORDER)
    if not total:
        return [0] * len(stances.STANCE_ORDER)
    widths, used = [], 0
    running = 0
    for stance in stances.STANCE_ORDER:
        running += counts.get(stance, 0)
        right = round(width * running / total)
        widths.append(right - used)
        used = right
    return widths


def draw_card(kicker, title, counts, footer):
    """The PNG bytes of a card: a kicker line, a title, the tally bar, its counts, a footer."""
    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 12), fill=INK)
    draw.text((MARGIN, 56), kicker, font=_font(30), fill=MUTED)
    lines = textwrap.wrap(title, width=42)[:3]
    if len(textwrap.wrap(title, width=42)) > 3:
        lines[-1] = lines[-1][:39].rstrip() + "…"
    y = 104
    for line in lines:
        draw.text((MARGIN, y), line, font=_font(56), fill=INK)
        y += 68

    left, top, right, bottom = BAR_BOX
    draw.rectangle(BAR_BOX, fill=EMPTY)
    x = left
    for stance, width in zip(stances.STANCE_ORDER, bar_widths(counts, right - left), strict=True):
        if width:
            draw.rectangle((x, top, x + width - 1, bottom), fill=STANCE_COLOURS[stance])
        x += width

    labels = [f"{Stance(s).label}: {counts.get(s, 0)}" for s in stances.STANCE_ORDER]
    for size in range(32, 17, -2):  # the largest legend that fits under the bar
        legend = _font(size)
        widths = [32 + draw.textlength(label, font=legend) for label in labels]
        if sum(widths) + 30 * (len(labels) - 1) <= right - left:
            break
    x = left
    for stance, label, width in zip(stances.STANCE_ORDER, labels, widths, strict=True):
        draw.rectangle((x, 482, x + 22, 504), fill=STANCE_COLOURS[stance])
        draw.text((x + 32, 493), label, font=legend, fill=INK, anchor="lm")
        x += width + 30
    draw.text((MARGIN, 556), footer, font=_font(28), fill=MUTED)

    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def card(request, kicker, title, counts, footer):
    """The card's response: its image drawn (`draw_card`), or the same image drawn before."""
    content = fragments.reuse(
        request,
        "card",
        [kicker, title, counts, footer],
        lambda: draw_card(kicker, title, counts, footer),
    )
    return HttpResponse(content, content_type="image/png")


def _today():
    today = timezone.localdate()
    return f"{today.day} {today:%B %Y}"


def _footer(total, what="actors with a known position"):
    return f"Position Tracker · {total} {what} · {_today()}"


@require_safe
@cached_page
def question_card(request, topic_slug, slug):
    question = get_object_or_404(
        Question.objects.select_related("topic"), topic__slug=topic_slug, slug=slug
    )
    counts = stances.tally(question)
    return card(
        request, question.topic.title, question.title, counts, _footer(sum(counts.values()))
    )


@require_safe
@cached_page
def actor_card(request, slug):
    """An actor's current positions, counted by stance across the questions."""
    actor = get_object_or_404(Actor.objects.public(), slug=slug)
    counts = {}
    for position in stances.positions_of(actor):
        counts[position.statement.stance] = counts.get(position.statement.stance, 0) + 1
    kicker = actor.get_kind_display() + (f" · {actor.country_name}" if actor.country else "")
    total = sum(counts.values())
    return card(request, kicker, actor.name, counts, _footer(total, "questions with a position"))


@require_safe
@cached_page
def statement_card(request, pk):
    """A statement: who said what, over the current tally of its question."""
    statement = get_object_or_404(
        Statement.objects.public().select_related("question__topic"), pk=pk
    )
    names = [
        s.actor.name
        for s in statement.signatures.select_related("actor").order_by("-is_lead", "order", "pk")
    ]
    who = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    stance = Stance(statement.stance).label.lower()
    if statement.is_retracted:
        stance += " (retracted)"
    counts = stances.tally(statement.question)
    title = f"{who}: {stance}"
    kicker = f"{statement.question.title} · {statement.date_display}"
    total = sum(counts.values())
    footer = _footer(total, "actors with a known position on the question")
    return card(request, kicker, title, counts, footer)
