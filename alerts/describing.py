"""
What an event says, for a reader's email and an integrator's webhook alike: names, stances
and public addresses, resolved when the worker delivers (a few queries per batch, however
many events it holds).
"""

from django.conf import settings

from positions.models import Actor, Condition, ConditionStatus, Question, Stance, Statement

from .models import EventKind


def absolute(path):
    return f"{settings.SITE_URL}{path}"


def stance_label(value):
    return Stance(value).label if value else None


def status_label(value):
    return ConditionStatus(value).label if value else None


def _question(question):
    return {
        "id": question.pk,
        "title": question.title,
        "url": absolute(question.get_absolute_url()),
        "topic": {
            "id": question.topic_id,
            "title": question.topic.title,
            "url": absolute(question.topic.get_absolute_url()),
        },
    }


def _actor(actor):
    return {"id": actor.pk, "name": actor.name, "url": absolute(actor.get_absolute_url())}


def _statement(statement):
    return {
        "id": statement.pk,
        "url": absolute(statement.get_absolute_url()),
        "date": statement.date.isoformat(),
        "stance": statement.stance,
        "summary": statement.summary,
    }


def describe(events):
    """`{event id: description}`: a JSON-able dict per event, with a one-line `headline`."""
    question_ids = {e.question_id for e in events if e.question_id}
    actor_ids = {e.actor_id for e in events if e.actor_id}
    actor_ids |= {a for e in events for a in e.data.get("actors", [])}
    statement_ids = {e.statement_id for e in events if e.statement_id}
    condition_ids = {e.condition_id for e in events if e.condition_id}
    questions = Question.objects.select_related("topic").in_bulk(question_ids)
    actors = Actor.objects.only("name", "slug").in_bulk(actor_ids)
    statements = Statement.objects.only("date", "stance", "summary").in_bulk(statement_ids)
    conditions = Condition.objects.only("text", "slug").in_bulk(condition_ids)
    described = {}
    for event in events:
        item = {"id": event.pk, "kind": event.kind, "created_at": event.created_at.isoformat()}
        question = questions.get(event.question_id)
        statement = statements.get(event.statement_id)
        if question:
            item["question"] = _question(question)
        if statement:
            item["statement"] = _statement(statement)
        if event.kind == EventKind.STANCE_CHANGED:
            actor = actors.get(event.actor_id)
            item |= {
                "actor": _actor(actor) if actor else None,
                "from": event.data.get("from"),
                "to": event.data.get("to"),
                "previous_statement": event.data.get("previous_statement"),
            }
            item["headline"] = stance_headline(
                actor.name if actor else "An actor", item["from"], item["to"]
            )
        elif event.kind == EventKind.STATEMENT_PUBLISHED:
            signed = [actors[a] for a in event.data.get("actors", []) if a in actors]
            item["actors"] = [_actor(actor) for actor in signed]
            names = ", ".join(actor.name for actor in signed) or "An actor"
            stance = stance_label(event.data.get("stance")) or ""
            item["headline"] = f"New statement by {names}: {stance.lower()}"
        else:
            condition = conditions.get(event.condition_id)
            item |= {
                "condition": {
                    "id": condition.pk,
                    "text": condition.text,
                    "url": absolute(condition.get_absolute_url()),
                }
                if condition
                else None,
                "from": event.data.get("from"),
                "to": event.data.get("to"),
            }
            text = condition.text if condition else "A condition"
            item["headline"] = (
                f"“{text}”: now {status_label(item['to']).lower()} "
                f"(was {status_label(item['from']).lower()})"
            )
        item["url"] = _link(item)
        described[event.pk] = item
    return described


def stance_headline(name, before, after):
    if before is None:
        return f"{name} took a position: {stance_label(after).lower()}"
    if after is None:
        return f"{name} no longer has a position (was {stance_label(before).lower()})"
    return f"{name}: now {stance_label(after).lower()} (was {stance_label(before).lower()})"


def _link(item):
    """Where a reader reads more: the statement, else the condition or the question."""
    for key in ("statement", "condition", "question"):
        if item.get(key):
            return item[key]["url"]
    return settings.SITE_URL
