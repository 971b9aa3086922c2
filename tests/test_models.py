import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from positions.models import (
    ActorIdentifier,
    DatePrecision,
    Signatory,
    Source,
    Stance,
    Statement,
    StatementStatus,
)
from tests.factories import ActorFactory, QuestionFactory, SourceFactory, StatementFactory

pytestmark = pytest.mark.django_db


def refused_by_database(**changes):
    statement = StatementFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Statement.objects.filter(pk=statement.pk).update(**changes)


def test_the_database_refuses_an_unknown_stance():
    refused_by_database(stance="maybe")


def test_the_database_refuses_an_unknown_status():
    refused_by_database(status="hidden")


def test_the_database_refuses_a_published_statement_without_source():
    refused_by_database(source=None)


def test_the_database_refuses_a_retraction_without_note():
    refused_by_database(status=StatementStatus.RETRACTED, correction_note="")


def test_a_draft_may_wait_for_its_source():
    statement = StatementFactory(status=StatementStatus.DRAFT, source=None)
    assert statement.source is None


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "data:text/html,hi", "ftp://example.org/x", "//example.org"]
)
def test_only_http_addresses_are_accepted(url):
    source = Source(title="T", kind="news_report", url=url)
    with pytest.raises(ValidationError) as error:
        source.full_clean()
    assert "http:// or https://" in str(error.value)


def test_the_database_refuses_a_javascript_address_too():
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(title="T", kind="news_report", url="javascript:alert(1)")


def test_two_sources_may_lack_an_address_but_not_share_one():
    Source.objects.create(title="Offline letter", kind="letter", url="")
    Source.objects.create(title="Another offline letter", kind="letter", url="")
    SourceFactory(url="https://example.org/a")
    with pytest.raises(IntegrityError), transaction.atomic():
        SourceFactory(url="https://example.org/a")


def test_a_published_statement_needs_a_source_in_the_form_too():
    statement = Statement(
        question=QuestionFactory(),
        date=datetime.date(2024, 1, 1),
        stance=Stance.SUPPORTS,
        summary="S",
        status=StatementStatus.PUBLISHED,
    )
    with pytest.raises(ValidationError) as error:
        statement.full_clean()
    assert "source" in error.value.message_dict


def test_a_conditional_stance_must_name_a_condition():
    assert Statement.conditions_error(Stance.CONDITIONAL, [])
    assert Statement.conditions_error(Stance.CONDITIONAL, ["x"]) is None
    assert Statement.conditions_error(Stance.OPPOSES, []) is None


def test_an_imprecise_date_is_the_first_day_of_its_month():
    statement = StatementFactory.build(
        date=datetime.date(2024, 11, 5), date_precision=DatePrecision.MONTH
    )
    with pytest.raises(ValidationError) as error:
        statement.clean()
    assert "first day" in str(error.value)


@pytest.mark.parametrize(
    ("precision", "date", "shown"),
    [
        ("day", datetime.date(2024, 10, 29), "29 October 2024"),
        ("month", datetime.date(2024, 11, 1), "November 2024"),
        ("year", datetime.date(2024, 1, 1), "2024"),
    ],
)
def test_dates_are_shown_as_precisely_as_known(precision, date, shown):
    assert StatementFactory.build(date=date, date_precision=precision).date_display == shown


def test_statements_in_the_future_are_refused():
    statement = StatementFactory.build(date=datetime.date.today() + datetime.timedelta(days=3))
    with pytest.raises(ValidationError):
        statement.clean()


def test_one_lead_per_statement():
    statement = StatementFactory()  # its first signatory is the lead
    with pytest.raises(IntegrityError), transaction.atomic():
        Signatory.objects.create(statement=statement, actor=ActorFactory(), is_lead=True)


def test_an_actor_signs_a_statement_once():
    actor = ActorFactory()
    statement = StatementFactory(actors=[actor])
    with pytest.raises(IntegrityError), transaction.atomic():
        Signatory.objects.create(statement=statement, actor=actor, order=1)


def test_an_actor_cannot_belong_to_itself_through_a_loop():
    parent, child = ActorFactory(), ActorFactory()
    child.parent = parent
    child.save()
    parent.parent = child
    with pytest.raises(ValidationError):
        parent.clean()


def test_identifiers_are_unique_per_scheme_and_checked():
    actor = ActorFactory()
    ActorIdentifier.objects.create(actor=actor, scheme="wikidata", identifier="Q42")
    with pytest.raises(IntegrityError), transaction.atomic():
        ActorIdentifier.objects.create(actor=ActorFactory(), scheme="wikidata", identifier="Q42")
    bad = ActorIdentifier(actor=actor, scheme="wikidata", identifier="42")
    with pytest.raises(ValidationError):
        bad.clean()
    assert ActorIdentifier(scheme="wikidata", identifier="Q42").url.endswith("/Q42")


def test_publishing_stamps_the_first_publication_once():
    statement = StatementFactory(status=StatementStatus.DRAFT)
    statement.mark_status(StatementStatus.PUBLISHED)
    first = statement.first_published_at
    statement.mark_status(StatementStatus.DRAFT)
    statement.mark_status(StatementStatus.PUBLISHED)
    assert statement.first_published_at == first


def test_history_is_kept_for_statements():
    statement = StatementFactory(summary="First")
    statement.summary = "Second"
    statement.save()
    assert [h.summary for h in statement.history.all()] == ["Second", "First"]


def test_an_actor_gives_its_country_by_name_or_nothing():
    assert ActorFactory(country="FR").country_name == "France"
    assert ActorFactory(country="").country_name == ""
