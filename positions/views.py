"""Public pages. Positions come from `stances.py`; only public statements are shown."""

from django.shortcuts import get_object_or_404, render

from . import stances
from .models import Actor, Condition, Question, Source, Stance, Statement, Topic


def home(request):
    topics = Topic.objects.prefetch_related("questions")
    return render(request, "positions/home.html", {"topics": topics})


def topic_detail(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    return render(request, "positions/topic.html", {"topic": topic})


def question_board(request, topic_slug, slug):
    question = get_object_or_404(
        Question.objects.select_related("topic"), topic__slug=topic_slug, slug=slug
    )
    positions = stances.current_positions(question)
    return render(
        request,
        "positions/question.html",
        {"question": question, "positions": positions, "stances": Stance},
    )


def actor_list(request):
    return render(request, "positions/actor_list.html", {"actors": Actor.objects.all()[:100]})


def actor_detail(request, slug):
    actor = get_object_or_404(Actor, slug=slug)
    return render(
        request, "positions/actor.html", {"actor": actor, "positions": stances.positions_of(actor)}
    )


def statement_list(request):
    statements = Statement.objects.public().select_related("question", "source")[:100]
    return render(request, "positions/statement_list.html", {"statements": statements})


def statement_detail(request, pk):
    statement = get_object_or_404(Statement.objects.public(), pk=pk)
    return render(request, "positions/statement.html", {"statement": statement})


def source_detail(request, pk):
    return render(request, "positions/source.html", {"source": get_object_or_404(Source, pk=pk)})


def condition_detail(request, slug):
    return render(
        request, "positions/condition.html", {"condition": get_object_or_404(Condition, slug=slug)}
    )


def methodology(request):
    return render(request, "positions/methodology.html", {"stances": Stance})
