"""
The sitemap: an index at /sitemap.xml pointing at one sitemap per kind of page, each split
into pages of at most `RecordSitemap.limit` addresses by id, so no response grows with the
record and each costs a fixed number of queries (the index: one per kind, the highest id; a
page of a kind: that and the page).
"""

from django.contrib.sitemaps import Sitemap
from django.core.paginator import EmptyPage, Page, PageNotAnInteger
from django.urls import reverse
from django.utils.functional import cached_property

from .models import Actor, Condition, Question, Source, Statement, Topic


class StaticPagesSitemap(Sitemap):
    def items(self):
        return [
            "home",
            "actor_list",
            "statement_list",
            "source_list",
            "condition_list",
            "methodology",
            "corrections",
        ]

    def location(self, name):
        return reverse(f"positions:{name}")


class IdRangePaginator:
    """
    Pages of `limit` consecutive ids. Their number needs only the highest id (one index
    lookup), where Django's paginator counts every row (a second at a million statements).
    A page may hold fewer than `limit` addresses, never more.
    """

    def __init__(self, records, limit, last_id):
        self.records, self.limit = records, limit
        self.num_pages = max(1, -(-(last_id or 0) // limit))

    def page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("That page number is not an integer.") from None
        if not 1 <= number <= self.num_pages:
            raise EmptyPage("That page holds no addresses.")
        first = (number - 1) * self.limit + 1
        return Page(self.records.filter(pk__range=(first, first + self.limit - 1)), number, self)


class RecordSitemap(Sitemap):
    """Public records of one kind, by id, with the time each was last changed."""

    limit = 5000
    # Only what the address and lastmod need.
    fields = ["pk", "updated_at"]

    def records(self):
        raise NotImplementedError

    def items(self):
        return self.records().order_by("pk").only(*self.fields)

    def lastmod(self, record):
        return record.updated_at

    @cached_property
    def paginator(self):
        # ORDER BY id DESC LIMIT 1 reads one index entry; PostgreSQL plans MAX(id) over a
        # semi-join (a public source) as a scan of every row.
        last_id = self.records().order_by("-pk").values_list("pk", flat=True).first()
        return IdRangePaginator(self.items(), self.limit, last_id)

    def get_latest_lastmod(self):
        # The latest change of a kind would read every record of it; the index goes without
        # (the addresses in each sitemap carry theirs).
        return None


class TopicSitemap(RecordSitemap):
    fields = ["pk", "updated_at", "slug"]

    def records(self):
        return Topic.objects.all()


class QuestionSitemap(RecordSitemap):
    fields = ["pk", "updated_at", "slug", "topic__slug"]

    def records(self):
        return Question.objects.select_related("topic")


class ActorSitemap(RecordSitemap):
    fields = ["pk", "updated_at", "slug"]

    def records(self):
        return Actor.objects.public()


class StatementSitemap(RecordSitemap):
    def records(self):
        return Statement.objects.public()


class SourceSitemap(RecordSitemap):
    def records(self):
        return Source.objects.public()


class ConditionSitemap(RecordSitemap):
    fields = ["pk", "updated_at", "slug"]

    def records(self):
        return Condition.objects.public()


SITEMAPS = {
    "pages": StaticPagesSitemap,
    "topics": TopicSitemap,
    "questions": QuestionSitemap,
    "actors": ActorSitemap,
    "statements": StatementSitemap,
    "sources": SourceSitemap,
    "conditions": ConditionSitemap,
}
