"""
Atom feeds of new statements: overall, per question and per actor. Public statements only
(published, and retracted ones shown as retracted); drafts never appear. Links and ids are
on the site's public address (SITE_URL), whatever host the reader's request named.
"""

from django.contrib.syndication.views import Feed
from django.db.models import F, Prefetch
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.encoding import iri_to_uri
from django.utils.feedgenerator import Atom1Feed

from .exports import public_url
from .models import Actor, Question, Signatory, Statement
from .views import correction_entries, describe_corrections

FEED_LENGTH = 50


class PlainTextAtom1Feed(Atom1Feed):
    """
    Atom with summaries as plain text. Django writes `<summary type="html">`, so a feed
    reader renders an editor's summary as HTML: markup in it would be live and a plain `<`
    would go wrong. Titles, names and subtitles are text in Atom already.
    """

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "description": None})
        if item["description"] is not None:
            handler.addQuickElement("summary", item["description"], {"type": "text"})


def latest_public_statements():
    """Newest first: by when they were published, then by when they were recorded."""
    return (
        Statement.objects.public()
        .select_related("question__topic", "source")
        .prefetch_related(
            Prefetch(
                "signatures",
                queryset=Signatory.objects.select_related("actor").order_by("order", "pk"),
            )
        )
        .order_by(F("first_published_at").desc(nulls_last=True), "-created_at", "-pk")
    )


class LatestStatementsFeed(Feed):
    feed_type = PlainTextAtom1Feed
    title = "Position Tracker: new statements"
    subtitle = "Dated, sourced statements of who stands where, newest first."

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        # The feed's own address ("self"): Django's would be on the request's host.
        feed.feed["feed_url"] = iri_to_uri(public_url(request.path))
        return feed

    def link(self):
        return public_url(reverse("positions:statement_list"))

    def items(self):
        return latest_public_statements()[:FEED_LENGTH]

    def item_title(self, statement):
        actors = ", ".join(s.actor.name for s in statement.signatures.all())
        title = f"{actors}: {statement.get_stance_display()} — {statement.question.label}"
        if statement.is_retracted:
            title = f"[Retracted] {title}"
        return title

    def item_description(self, statement):
        text = statement.summary
        if statement.is_retracted and statement.correction_note:
            text += f"\n\nCorrection: {statement.correction_note}"
        return text

    def item_link(self, statement):
        return public_url(statement.get_absolute_url())

    def item_pubdate(self, statement):
        return statement.first_published_at or statement.created_at

    def item_updateddate(self, statement):
        return statement.updated_at

    def item_author_name(self, statement):
        return ", ".join(s.actor.name for s in statement.signatures.all())


class QuestionStatementsFeed(LatestStatementsFeed):
    def get_object(self, request, topic_slug, slug):
        return get_object_or_404(
            Question.objects.select_related("topic"), topic__slug=topic_slug, slug=slug
        )

    def title(self, question):
        return f"Position Tracker: {question.topic.title} — {question.title}"

    def link(self, question):
        return public_url(question.get_absolute_url())

    def items(self, question):
        return latest_public_statements().on(question)[:FEED_LENGTH]


class ActorStatementsFeed(LatestStatementsFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Actor.objects.public(), slug=slug)

    def title(self, actor):
        return f"Position Tracker: statements by {actor.name}"

    def link(self, actor):
        return public_url(actor.get_absolute_url())

    def items(self, actor):
        return latest_public_statements().by(actor)[:FEED_LENGTH]


class CorrectionsFeed(LatestStatementsFeed):
    """The corrections page as a feed: each correction or retraction, newest first."""

    title = "Position Tracker: corrections"
    subtitle = "Changes to published statements that changed what readers see, and retractions."

    def link(self):
        return public_url(reverse("positions:corrections"))

    def items(self):
        return describe_corrections(correction_entries()[:FEED_LENGTH])

    def item_title(self, entry):
        actors = ", ".join(s.actor.name for s in entry.signatories)
        what = "Retracted" if entry.is_retraction else "Corrected " + ", ".join(entry.changes)
        return f"{what}: {actors} — {entry.question.label}"

    def item_description(self, entry):
        return f"{entry.summary}\n\n{entry.note}" if entry.note else entry.summary

    def item_link(self, entry):
        return public_url(reverse("positions:statement", args=[entry.id]))

    def item_guid(self, entry):
        # One statement may be corrected several times: each correction is its own entry.
        return public_url(reverse("positions:corrections")) + f"#correction-{entry.history_id}"

    item_guid_is_permalink = False

    def item_pubdate(self, entry):
        return entry.corrected_at

    def item_updateddate(self, entry):
        return entry.corrected_at

    def item_author_name(self, entry):
        return ", ".join(s.actor.name for s in entry.signatories)
