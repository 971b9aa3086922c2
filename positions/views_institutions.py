"""
Pages about several actors at once: two to five actors compared question by question
(`/compare/?actors=a,b`), and an organisation's members on a date with their stances on the
questions it decides (`/actors/<slug>/members/`). Positions come from `stances.py`, members
from `institutions.py`; each page runs a fixed number of queries whatever the size of the
data (pinned in tests/test_compare.py and tests/test_members_page.py).
"""

import re
from dataclasses import dataclass

from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from . import institutions, stances
from .caching import cached_page
from .forms import CompareForm, DayForm, MembersForm
from .models import Question
from .search import actor_search
from .views import (
    _printable,
    base_query_string,
    form_errors,
    paginate,
    valid_data,
    visible_actors,
)

COMPARE_MIN, COMPARE_MAX = 2, 5
# An address naming more actors than this is junk: refused without looking any of them up.
COMPARE_READ_AT_MOST = 25
ADD_SHOWN = 20  # the actors a search for one more offers
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,200}")  # Actor.slug: a SlugField of 200
MEMBERS_PER_PAGE = 50
# The questions an organisation decides are its members table's columns; a body deciding
# more than this lists the others in the question menu.
QUESTION_COLUMNS = 6


# --- Compare actors ---------------------------------------------------------------------------


def chosen_slugs(request):
    """
    The actors the address names, in its order, each once: `actors=a,b,c` (the canonical
    form) or `actors=a&actors=b` (ticked boxes), or both. `(slugs, messages)`.
    """
    parts = [part.strip() for value in request.GET.getlist("actors") for part in value.split(",")]
    parts = [part for part in parts if part]
    if len(parts) > COMPARE_READ_AT_MOST:
        return [], [f"That address names {len(parts)} actors: a comparison has two to five."]
    slugs, messages = [], []
    for part in parts:
        if not SLUG.fullmatch(part):
            messages.append(
                f"“{_printable(part)}” is not the address of an actor "
                "(letters, digits and hyphens, as in /actors/cisco/)."
            )
        elif part not in slugs:
            slugs.append(part)
    return slugs, messages


def compare_query(actors, as_of):
    """The canonical query string: the actors in the order chosen, then the date if any."""
    query = "actors=" + ",".join(actor.slug for actor in actors)
    return query + (f"&as_of={as_of:%Y-%m-%d}" if as_of else "")


@dataclass
class CompareRow:
    question: Question
    cells: list  # per compared actor, in order: its position (`positions_of_actors`) or None

    @property
    def same(self):
        """Every compared actor has a position, and all hold the same stance."""
        stances_held = {cell.position_stance for cell in self.cells if cell is not None}
        return None not in self.cells and len(stances_held) == 1


def comparison(actors, as_of):
    """
    `[(topic, [CompareRow])]`: the questions at least one of `actors` has a position on (as
    of `as_of`), by topic and the topic's order, each with the actors' positions. One query.
    """
    questions, cells = {}, {}
    for position in stances.positions_of_actors([actor.pk for actor in actors], as_of):
        question = position.statement.question
        questions[question.pk] = question
        cells.setdefault(question.pk, {})[position.actor_id] = position
    in_order = sorted(
        questions.values(), key=lambda q: (q.topic.title, q.topic_id, q.display_order, q.pk)
    )
    topics = []
    for question in in_order:
        if not topics or topics[-1][0].pk != question.topic_id:
            topics.append((question.topic, []))
        row = CompareRow(question, [cells[question.pk].get(actor.pk) for actor in actors])
        topics[-1][1].append(row)
    return topics


@cached_page
def compare(request):
    """
    Two to five actors side by side. Fewer is the form that builds the comparison (a search
    for a name, boxes to tick); unknown or hidden actors, too many, or junk in the address
    get the same form with what was wrong, and a 400.
    """
    form = CompareForm(request.GET)
    data = valid_data(form)
    as_of = data.get("as_of")
    slugs, errors = chosen_slugs(request)
    found = {a.slug: a for a in visible_actors(request).filter(slug__in=slugs)} if slugs else {}
    actors = [found[slug] for slug in slugs if slug in found]
    # A draft-only actor is "unknown" too: its address alone could reveal the draft.
    errors += [f"No actor has the address “{slug}”." for slug in slugs if slug not in found]
    if len(actors) > COMPARE_MAX:
        errors.append(
            f"You chose {len(actors)} actors: a comparison has at most {COMPARE_MAX}. "
            "Untick some and compare again."
        )
    searching = bool(data.get("q")) and request.GET.get("do") != "compare"
    comparing = not errors and len(actors) >= COMPARE_MIN
    canonical = compare_query(actors, as_of)
    asked = request.META.get("QUERY_STRING", "")
    if comparing and not searching and not form.errors and asked != canonical:
        # One address per comparison, whichever way it was asked for.
        return redirect(f"{reverse('positions:compare')}?{canonical}")
    if request.GET.get("do") == "compare" and not errors and len(actors) < COMPARE_MIN:
        errors.append(f"Tick at least {COMPARE_MIN} actors to compare them.")
    candidates = []
    if data.get("q"):
        candidates = list(
            visible_actors(request)
            .filter(actor_search(data["q"]))
            .exclude(pk__in=[actor.pk for actor in actors])
            .order_by("name", "pk")[: ADD_SHOWN + 1]
        )
    topics = comparison(actors, as_of) if comparing else []
    rows = [row for _topic, topic_rows in topics for row in topic_rows]
    today = timezone.localdate()
    response = render(
        request,
        "positions/compare.html",
        {
            "form": form,
            "notices": form_errors(form),
            "errors": errors,
            "actors": actors,
            "comparing": comparing,
            "candidates": candidates[:ADD_SHOWN],
            "more_candidates": len(candidates) > ADD_SHOWN,
            "searched": data.get("q", ""),
            "topics": topics,
            "question_count": len(rows),
            "same_count": sum(1 for row in rows if row.same),
            "all_held_count": sum(1 for row in rows if None not in row.cells),
            "canonical_query": canonical,
            "as_of": as_of or today,
            "is_past": as_of is not None and as_of != today,
            "max_actors": COMPARE_MAX,
        },
    )
    if errors:
        response.status_code = 400
    return response


# --- An organisation's members ----------------------------------------------------------------


@dataclass
class QuestionColumn:
    pk: int
    label: str
    title: str
    topic_title: str
    url: str
    decided: bool


def question_columns(rows):
    """`{pk: QuestionColumn}` from `institutions.questions_in_view` rows, in their order."""
    return {
        row["pk"]: QuestionColumn(
            pk=row["pk"],
            label=Question.label_of(row["title"], row["short_label"]),
            title=row["title"],
            topic_title=row["topic__title"],
            url=reverse("positions:question", args=[row["topic__slug"], row["slug"]]),
            decided=row["decided"],
        )
        for row in rows
    }


@cached_page
def organization_members(request, slug):
    """
    A chamber's, party's or bloc's members on a day (`institutions.members_on`), page by
    page, with their positions on the questions it decides and on a question the reader
    chooses; filtered by name, party and stance.
    """
    visible = visible_actors(request)
    organization = get_object_or_404(visible, slug=slug)
    # The day first: it decides who the members are, which questions the body decides (a
    # party's, through the bodies it sits in) and the parties offered.
    as_of = valid_data(DayForm(request.GET)).get("as_of")
    today = timezone.localdate()
    day = as_of or today
    questions = question_columns(institutions.questions_in_view(organization, day))
    form = MembersForm(
        request.GET, questions=[(pk, f"{c.topic_title}: {c.label}") for pk, c in questions.items()]
    )
    data = valid_data(form)
    notices = form_errors(form)
    parties = institutions.parties_on(organization, day, visible)
    form.offer_parties(parties)

    members = institutions.members_on(organization, day, visible)
    if data.get("q"):
        members = institutions.named(members, data["q"])
    if data.get("party"):
        if data["party"] in dict(parties):
            members = institutions.sitting_for(members, organization, day, data["party"])
        else:
            notices.append("Sits for: no member sits for that party on that day. Ignored.")
    chosen = questions.get(data.get("question"))
    if data.get("stance"):
        if chosen:
            members = institutions.holding(members, chosen.pk, data["stance"], as_of)
        else:
            notices.append("A stance filter needs a question: choose one to see who holds it.")

    decided = [column for column in questions.values() if column.decided]
    columns = decided[:QUESTION_COLUMNS]
    if chosen and chosen not in columns:
        columns.append(chosen)
    page = paginate(request, members, MEMBERS_PER_PAGE)
    seats = list(page.object_list)  # a membership per member, with its actors
    cells = {}
    if seats and columns:
        positions = stances.positions_of_actors(
            [seat.member_id for seat in seats], as_of, [column.pk for column in columns]
        )
        cells = {(p.actor_id, p.position_question_id): p for p in positions}
    for seat in seats:
        seat.cells = [cells.get((seat.member_id, column.pk)) for column in columns]
    return render(
        request,
        "positions/members.html",
        {
            "organization": organization,
            "form": form,
            "notices": notices,
            "seats": seats,
            "page_obj": page,
            "query_string": base_query_string(request),
            "columns": columns,
            "decided": decided,
            "more_decided": len(decided) > QUESTION_COLUMNS,
            "day": day,
            "is_past": as_of is not None and as_of != today,
            "filtered": bool(data.get("q") or data.get("party") or data.get("stance")),
        },
    )
