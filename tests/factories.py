"""Test data builders. Keyword arguments override any field."""

import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from positions import writes
from positions.models import (
    ActKind,
    Actor,
    ActorKind,
    Condition,
    FormalAct,
    Membership,
    Question,
    Signatory,
    Source,
    SourceKind,
    Stance,
    Statement,
    StatementStatus,
    Topic,
)


class RecordFactory(factory.django.DjangoModelFactory):
    """A record of the tracker, written through the write path as the app writes it."""

    class Meta:
        abstract = True

    @classmethod
    def _generate(cls, strategy, params):
        if strategy != factory.enums.CREATE_STRATEGY:
            return super()._generate(strategy, params)
        with writes.writing():
            instance = super()._generate(strategy, params)
            writes.saved(instance)
        return instance

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # writes.save, as the app saves: it keeps what the write path derives (folded names).
        instance = model_class(*args, **kwargs)
        writes.save(instance)
        return instance


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")


class ActorFactory(RecordFactory):
    class Meta:
        model = Actor

    name = factory.Sequence(lambda n: f"Actor {n}")
    slug = factory.Sequence(lambda n: f"actor-{n}")
    kind = ActorKind.NGO


class MembershipFactory(RecordFactory):
    class Meta:
        model = Membership

    member = factory.SubFactory(ActorFactory, kind=ActorKind.LEGISLATOR)
    organization = factory.SubFactory(ActorFactory, kind=ActorKind.LEGISLATIVE_GROUP)
    role = "member"


class TopicFactory(RecordFactory):
    class Meta:
        model = Topic

    title = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")


class QuestionFactory(RecordFactory):
    class Meta:
        model = Question

    topic = factory.SubFactory(TopicFactory)
    title = factory.Sequence(lambda n: f"Question {n}")
    slug = factory.Sequence(lambda n: f"question-{n}")


class SourceFactory(RecordFactory):
    class Meta:
        model = Source

    title = factory.Sequence(lambda n: f"Source {n}")
    publisher = "Example News"
    kind = SourceKind.NEWS_REPORT
    url = factory.Sequence(lambda n: f"https://news.example.org/{n}")
    published_on = datetime.date(2024, 10, 30)


class ConditionFactory(RecordFactory):
    class Meta:
        model = Condition

    text = factory.Sequence(lambda n: f"Condition {n}")
    slug = factory.Sequence(lambda n: f"condition-{n}")


class StatementFactory(RecordFactory):
    """A published statement by one new actor, unless `actors=[...]` names the signatories."""

    class Meta:
        model = Statement
        skip_postgeneration_save = True

    question = factory.SubFactory(QuestionFactory)
    date = datetime.date(2024, 10, 1)
    stance = Stance.SUPPORTS
    summary = factory.Sequence(lambda n: f"Summary of statement {n}.")
    source = factory.SubFactory(SourceFactory)
    status = StatementStatus.PUBLISHED
    correction_note = factory.LazyAttribute(
        lambda s: "Corrected." if s.status == StatementStatus.RETRACTED else ""
    )
    first_published_at = factory.LazyAttribute(
        lambda s: None if s.status == StatementStatus.DRAFT else timezone.now()
    )

    @factory.post_generation
    def actors(self, create, extracted, **kwargs):
        if not create:
            return
        for order, actor in enumerate(extracted or [ActorFactory()]):
            Signatory.objects.create(statement=self, actor=actor, order=order, is_lead=order == 0)

    @factory.post_generation
    def conditions(self, create, extracted, **kwargs):
        if create and extracted:
            self.conditions.set(extracted)
        elif create and self.stance == Stance.CONDITIONAL:
            self.conditions.set([ConditionFactory()])


class FormalActFactory(RecordFactory):
    """A published signature by a new state actor on a new topic, unless told otherwise."""

    class Meta:
        model = FormalAct

    actor = factory.SubFactory(ActorFactory, kind=ActorKind.STATE)
    topic = factory.SubFactory(TopicFactory)
    kind = ActKind.SIGNATURE
    date = datetime.date(2025, 10, 25)
    text = factory.LazyAttribute(lambda a: "The text." if ActKind(a.kind).needs_text else "")
    source = factory.SubFactory(SourceFactory)
    status = StatementStatus.PUBLISHED
    correction_note = factory.LazyAttribute(
        lambda a: "Corrected." if a.status == StatementStatus.RETRACTED else ""
    )
    first_published_at = factory.LazyAttribute(
        lambda a: None if a.status == StatementStatus.DRAFT else timezone.now()
    )
