"""sitemap.xml: every public page readers can reach, nothing in draft."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .models import Actor, Condition, Question, Source, Statement, Topic


class StaticPagesSitemap(Sitemap):
    def items(self):
        return ["home", "actor_list", "statement_list", "methodology", "corrections"]

    def location(self, name):
        return reverse(f"positions:{name}")


class TopicSitemap(Sitemap):
    def items(self):
        return Topic.objects.order_by("pk")

    def lastmod(self, topic):
        return topic.updated_at


class QuestionSitemap(Sitemap):
    def items(self):
        return Question.objects.select_related("topic").order_by("pk")

    def lastmod(self, question):
        return question.updated_at


class ActorSitemap(Sitemap):
    def items(self):
        return Actor.objects.order_by("pk")

    def lastmod(self, actor):
        return actor.updated_at


class StatementSitemap(Sitemap):
    def items(self):
        return Statement.objects.public().order_by("pk")

    def lastmod(self, statement):
        return statement.updated_at


class SourceSitemap(Sitemap):
    def items(self):
        return Source.objects.public().order_by("pk")

    def lastmod(self, source):
        return source.updated_at


class ConditionSitemap(Sitemap):
    def items(self):
        return Condition.objects.public().order_by("pk")

    def lastmod(self, condition):
        return condition.updated_at


SITEMAPS = {
    "pages": StaticPagesSitemap,
    "topics": TopicSitemap,
    "questions": QuestionSitemap,
    "actors": ActorSitemap,
    "statements": StatementSitemap,
    "sources": SourceSitemap,
    "conditions": ConditionSitemap,
}
