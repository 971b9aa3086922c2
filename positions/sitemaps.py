"""
The sitemap: an index at /sitemap.xml pointing at one sitemap per kind of page, each split
into pages of `RecordSitemap.limit` addresses, so no response grows with the record and each
costs a fixed number of queries (the index: one per kind; a page of a kind: two).
"""

from django.contrib.sitemaps import Sitemap
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.urls import reverse
from django.utils.functional import cached_property

from .models import Actor, Condition, Question, Source, Statement, Topic


class StaticPagesSitemap(Sitemap):
    def items(self):
        return ["home", "actor_list", "statement_list", "methodology", "corrections"]

    def location(self, name):
        return reverse(f"positions:{name}")


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
    def summary(self):
        """The number of records and the latest change, in one query for both."""
        return self.records().aggregate(count=Count("pk"), latest=Max("updated_at"))

    @cached_property
    def paginator(self):
        # Django's asks COUNT(*) on every use, and get_latest_lastmod() would load every
        # record to find the latest: both come from the one summary query instead.
        paginator = Paginator(self.items(), self.limit)
        paginator.count = self.summary["count"]
        return paginator

    def get_latest_lastmod(self):
        return self.summary["latest"]


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
        return Actor.objects.all()


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
