"""Importing statements and the other file types through the shared import service."""

import datetime

import pytest
from django.contrib.auth.models import Permission

from positions import editorial
from positions.exchange import TYPES, ImportContext, import_bytes
from positions.models import (
    Actor,
    ActorIdentifier,
    Signatory,
    Source,
    Stance,
    Statement,
    StatementStatus,
)
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    QuestionFactory,
    SourceFactory,
    StatementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

HEADER = (
    "import_ref,question,date,stance,signatories,conditions,summary,quote,quote_locator,"
    "attribution,source,status,correction_note"
)


def csv_bytes(*lines):
    return ("\r\n".join(lines) + "\r\n").encode()


def run(kind, data, file_name="file.csv", user=None, can_publish=True, dry_run=False):
    context = ImportContext(user=user, file_name=file_name, can_publish=can_publish)
    return import_bytes(TYPES[kind], data, file_name, context=context, dry_run=dry_run)


def errors_of(report):
    return [(e.row, e.column, e.message) for e in report.errors]


@pytest.fixture
def world():
    question = QuestionFactory(topic__slug="uncc", slug="ratification")
    actors = [ActorFactory(slug=slug) for slug in ("us-admin", "senator-a", "senator-b")]
    source = SourceFactory(url="https://example.org/letter")
    condition = ConditionFactory(slug="human-rights")
    return question, actors, source, condition


def statement_line(ref="s1", **overrides):
    values = {
        "import_ref": ref,
        "question": "uncc/ratification",
        "date": "2024-11-01",
        "stance": "opposes",
        "signatories": "senator-a|senator-b",
        "conditions": "",
        "summary": "They warn it legitimises surveillance.",
        "quote": "",
        "quote_locator": "",
        "attribution": "own_words",
        "source": "https://example.org/letter",
        "status": "published",
        "correction_note": "",
    }
    values.update(overrides)
    return ",".join(f'"{v}"' for v in values.values())


def test_it_creates_statements_with_signatories_in_order_and_first_as_lead(world):
    report = run("statements", csv_bytes(HEADER, statement_line()))
    assert report.ok, report.errors
    assert (report.created, report.updated, report.skipped) == (1, 0, 0)
    statement = Statement.objects.get(import_ref="s1")
    assert statement.stance == Stance.OPPOSES
    assert statement.status == StatementStatus.PUBLISHED
    assert statement.first_published_at is not None
    signatures = list(statement.signatures.order_by("order").values_list("actor__slug", "is_lead"))
    assert signatures == [("senator-a", True), ("senator-b", False)]


def test_a_star_marks_the_lead_signatory(world):
    run("statements", csv_bytes(HEADER, statement_line(signatories="senator-a|senator-b*")))
    lead = Signatory.objects.get(is_lead=True)
    assert lead.actor.slug == "senator-b"


def test_conditions_are_listed_in_one_cell(world):
    ConditionFactory(slug="oversight")
    line = statement_line(stance="conditional", conditions="human-rights|oversight")
    report = run("statements", csv_bytes(HEADER, line))
    assert report.ok, report.errors
    statement = Statement.objects.get()
    assert sorted(statement.conditions.values_list("slug", flat=True)) == [
        "human-rights",
        "oversight",
    ]


def test_every_bad_row_is_reported_with_row_column_and_message_and_nothing_is_written(world):
    lines = [
        HEADER,
        statement_line("ok"),
        statement_line("bad-actor", signatories="senator-a|nobody"),
        statement_line("bad-date", date="31/12/2024"),
        statement_line("bad-stance", stance="maybe"),
        statement_line("no-condition", stance="conditional"),
        statement_line("bad-url", source="javascript:alert(1)"),
        statement_line("ok"),
    ]
    report = run("statements", csv_bytes(*lines))
    assert not report.ok
    assert Statement.objects.count() == 0
    errors = errors_of(report)
    assert errors == [
        (3, "signatories", "Unknown actor 'nobody': import them in an actors file first."),
        (4, "date", "'31/12/2024' is not a date: write it as YYYY-MM-DD."),
        (
            5,
            "stance",
            "Unknown stance 'maybe': use one of supports, conditional, opposes, undecided.",
        ),
        (6, "conditions", Statement.conditions_error(Stance.CONDITIONAL, [])),
        (
            7,
            "source",
            "'javascript:alert(1)' is not a web address starting with http:// or https://.",
        ),
        (
            8,
            "import_ref",
            "'ok' is already on row 2: each key may appear only once in a file.",
        ),
    ]


def test_reimporting_the_same_file_changes_nothing(world):
    data = csv_bytes(HEADER, statement_line("s1"), statement_line("s2", stance="supports"))
    first = run("statements", data)
    assert first.created == 2
    history_before = Statement.history.count()
    second = run("statements", data)
    assert (second.created, second.updated, second.skipped) == (0, 0, 2)
    assert Statement.objects.count() == 2
    assert Signatory.objects.count() == 4
    assert Statement.history.count() == history_before


def test_reimporting_an_edited_file_updates_only_what_changed_and_history_says_import(world):
    user = publisher()
    run("statements", csv_bytes(HEADER, statement_line("s1"), statement_line("s2")), user=user)
    edited = csv_bytes(
        HEADER,
        statement_line("s1"),
        statement_line("s2", summary="A corrected summary.", signatories="senator-b"),
    )
    report = run("statements", edited, file_name="edited.csv", user=user)
    assert (report.created, report.updated, report.skipped) == (0, 1, 1)
    s2 = Statement.objects.get(import_ref="s2")
    assert s2.summary == "A corrected summary."
    assert list(s2.signatures.values_list("actor__slug", "is_lead")) == [("senator-b", True)]
    latest = s2.history.first()
    assert latest.history_type == "~"
    assert latest.history_change_reason.startswith("Imported from edited.csv (import #")
    assert latest.history_user == user
    s1 = Statement.objects.get(import_ref="s1")
    assert s1.history.count() == 1
    assert s1.history.get().history_change_reason.startswith("Imported from file.csv (import #")
    removed = Signatory.history.filter(history_type="-").get()
    assert removed.actor.slug == "senator-a"
    assert removed.history_change_reason.startswith("Imported from edited.csv (import #")


def test_history_of_conditions_is_recorded_with_the_import(world):
    run(
        "statements",
        csv_bytes(HEADER, statement_line(stance="conditional", conditions="human-rights")),
    )
    record = Statement.objects.get().history.get()
    assert [c.condition.slug for c in record.conditions.all()] == ["human-rights"]


def publisher():
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="publish_statement"))
    return type(user).objects.get(pk=user.pk)  # fresh permission cache


def test_an_editor_import_cannot_publish(world):
    editor = UserFactory()
    report = run("statements", csv_bytes(HEADER, statement_line()), user=editor)
    assert errors_of(report) == [(2, "status", editorial.ONLY_PUBLISHERS)]
    assert not Statement.objects.exists()
    draft = run("statements", csv_bytes(HEADER, statement_line(status="draft")), user=editor)
    assert draft.ok and Statement.objects.get().status == StatementStatus.DRAFT
    assert run("statements", csv_bytes(HEADER, statement_line()), user=publisher()).ok
    assert Statement.objects.get().status == StatementStatus.PUBLISHED


def test_an_editor_import_cannot_change_a_published_statement_but_may_skip_it(world):
    data = csv_bytes(HEADER, statement_line())
    run("statements", data, user=publisher())
    editor = UserFactory()
    assert run("statements", data, user=editor).skipped == 1
    edited = csv_bytes(HEADER, statement_line(summary="Changed by an editor."))
    report = run("statements", edited, user=editor)
    assert errors_of(report) == [(2, "status", editorial.locked_message("published"))]
    assert Statement.objects.get().summary != "Changed by an editor."


def test_a_retraction_is_final_for_imports_too(world):
    run("statements", csv_bytes(HEADER, statement_line(status="retracted", correction_note="X")))
    report = run("statements", csv_bytes(HEADER, statement_line(status="published")))
    message = editorial.transition_error(publisher(), "retracted", "published")
    assert errors_of(report) == [(2, "status", message)]
    assert Statement.objects.get().status == StatementStatus.RETRACTED


def test_dry_run_reports_but_writes_nothing(world):
    report = run("statements", csv_bytes(HEADER, statement_line()), dry_run=True)
    assert report.ok and report.created == 1
    assert not Statement.objects.exists()


def test_statements_keyed_by_id_in_exports_update_the_same_statement(world):
    question, (admin, *_), source, _ = world
    statement = StatementFactory(question=question, actors=[admin], source=source)
    line = statement_line(f"pt-{statement.pk}", signatories="us-admin", stance="supports")
    report = run("statements", csv_bytes(HEADER, line))
    assert (report.created, report.updated) == (0, 1)
    assert Statement.objects.count() == 1


@pytest.mark.parametrize("rows", [5, 200])
def test_the_lookups_do_not_grow_with_the_rows(world, django_assert_num_queries, rows):
    lines = [HEADER] + [
        statement_line(f"s{i}", stance="conditional", conditions="human-rights")
        for i in range(rows)
    ]
    # existing statements by import_ref, questions, actors, sources, conditions: the same
    # five queries for 5 rows or 200 (lists of keys go in chunks of 900).
    with django_assert_num_queries(5):
        report = run("statements", csv_bytes(*lines), dry_run=True)
    assert report.created == rows


def test_a_database_refusal_while_writing_rolls_everything_back(world, monkeypatch):
    from django.db import IntegrityError

    from positions.exchange import writing

    def refuse(new, updated, context):
        raise IntegrityError("signatory_one_lead")

    monkeypatch.setattr(writing, "write_signatories", refuse)
    report = run("statements", csv_bytes(HEADER, statement_line()))
    assert not report.ok and "nothing was written" in report.errors[0].message
    assert not Statement.objects.exists()


def test_actors_with_parents_and_identifiers():
    header = "slug,name,kind,country,parent,aliases,description,website,identifiers"
    data = csv_bytes(
        header,
        "doj,Department of Justice,government,US,us-admin,DoJ|Justice Department,,,"
        "wikidata:Q1553390",
        "us-admin,US administration,government,us,,,,https://www.whitehouse.gov,",
    )
    report = run("actors", data)
    assert report.ok, report.errors
    doj = Actor.objects.get(slug="doj")
    assert doj.parent.slug == "us-admin"
    assert doj.alias_list == ["DoJ", "Justice Department"]
    assert doj.country.code == "US"
    assert list(doj.identifiers.values_list("scheme", "identifier")) == [("wikidata", "Q1553390")]
    assert ActorIdentifier.history.get().history_change_reason.startswith(
        "Imported from file.csv (import #"
    )
    assert run("actors", data).skipped == 2


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("a,A,wizard,,,,,,", "kind", "Unknown actor kind 'wizard'"),
        ("a,A,ngo,XX,,,,,", "country", "Unknown country 'XX'"),
        ("a,A,ngo,,nobody,,,,", "parent", "Unknown actor 'nobody'."),
        ("a,A,ngo,,a,,,,", "parent", "The parent chain loops back to this actor."),
        ("a,A,ngo,,,,,ftp://x.org,", "website", "'ftp://x.org' is not a web address"),
        ("a,A,ngo,,,,,,wikidata:42", "identifiers", "A Wikidata item id looks like Q42."),
        ("a,A,ngo,,,,,,Q42", "identifiers", "'Q42' is not an identifier"),
    ],
)
def test_bad_actor_rows_are_refused(line, column, message):
    header = "slug,name,kind,country,parent,aliases,description,website,identifiers"
    report = run("actors", csv_bytes(header, line))
    assert [(e.row, e.column) for e in report.errors] == [(2, column)]
    assert report.errors[0].message.startswith(message)
    assert not Actor.objects.exists()


def test_sources_keyed_on_url_refuse_non_http_urls():
    header = "url,title,publisher,kind,archive_url,published_on"
    report = run(
        "sources",
        csv_bytes(
            header,
            "https://example.org/a,A letter,Senate,letter,,2024-11-01",
            "javascript:alert(1),Bad,,letter,,",
        ),
    )
    assert errors_of(report) == [
        (3, "url", "'javascript:alert(1)' is not a web address starting with http:// or https://.")
    ]
    assert not Source.objects.exists()
    report = run("sources", csv_bytes(header, "https://example.org/a,A letter,,letter,,2024-11-01"))
    assert report.ok and Source.objects.get().published_on == datetime.date(2024, 11, 1)


def test_topics_questions_and_conditions_import_in_order():
    assert run("topics", csv_bytes("slug,title,summary", "uncc,UN Convention,")).ok
    report = run(
        "questions",
        csv_bytes(
            "topic,slug,title,short_label,description,display_order",
            "uncc,adoption,Adoption by the UNGA,Adoption,,1",
            "nope,x,X,,,",
        ),
    )
    assert errors_of(report) == [(3, "topic", "Unknown topic 'nope'.")]
    report = run(
        "conditions",
        csv_bytes("slug,text,status", "hr,Human-rights safeguards,open", "x,X,pending"),
    )
    assert errors_of(report) == [
        (3, "status", "Unknown status 'pending': use one of open, met, not_met.")
    ]


def test_unknown_and_missing_columns_are_refused(world):
    report = run("statements", csv_bytes("import_ref,stnce", "s1,opposes"))
    messages = [e.message for e in report.errors]
    assert messages[0].startswith("Unknown column(s): stnce.")
    assert messages[1].startswith("Missing required column(s): question, date, stance")


def test_moving_the_lead_and_reordering_signatories_updates_in_place(world):
    run("statements", csv_bytes(HEADER, statement_line(signatories="senator-a|senator-b")))
    report = run(
        "statements", csv_bytes(HEADER, statement_line(signatories="senator-a|senator-b*"))
    )
    assert report.updated == 1
    statement = Statement.objects.get()
    assert list(statement.signatures.values_list("actor__slug", "order", "is_lead")) == [
        ("senator-a", 0, False),
        ("senator-b", 1, True),
    ]
    report = run("statements", csv_bytes(HEADER, statement_line(signatories="senator-b|senator-a")))
    assert list(statement.signatures.values_list("actor__slug", "order", "is_lead")) == [
        ("senator-b", 0, True),
        ("senator-a", 1, False),
    ]
    assert Signatory.objects.count() == 2


def test_actor_updates_change_parent_and_identifiers_with_history():
    header = "slug,name,kind,parent,identifiers"
    run(
        "actors",
        csv_bytes(
            header, "senate,Senate,legislative_group,,", "wyden,Wyden,legislator,,wikidata:Q1"
        ),
    )
    report = run(
        "actors",
        csv_bytes(
            header,
            "wyden,Wyden,legislator,senate,bioguide:W000779",
            "senate,Senate,legislative_group,,",
        ),
        file_name="second.csv",
    )
    assert (report.created, report.updated, report.skipped) == (0, 1, 1)
    wyden = Actor.objects.get(slug="wyden")
    assert wyden.parent.slug == "senate"
    assert list(wyden.identifiers.values_list("scheme", "identifier")) == [("bioguide", "W000779")]
    assert wyden.history.first().history_change_reason.startswith(
        "Imported from second.csv (import #"
    )
    deleted = ActorIdentifier.history.get(history_type="-")
    assert deleted.identifier == "Q1"
    assert deleted.history_change_reason.startswith("Imported from second.csv (import #")


def test_an_identifier_of_another_existing_actor_is_refused():
    header = "slug,name,kind,identifiers"
    run("actors", csv_bytes(header, "a,A,ngo,wikidata:Q1", "b,B,ngo,"))
    report = run("actors", csv_bytes(header, "b,B,ngo,wikidata:Q1"))
    assert errors_of(report) == [(2, "identifiers", "wikidata:Q1 already belongs to actor 'a'.")]


def test_a_row_with_an_unknown_slug_is_matched_by_its_identifier():
    header = "slug,name,kind,identifiers"
    run("actors", csv_bytes(header, "a,A,ngo,wikidata:Q1"))
    report = run("actors", csv_bytes(header, "b,A,ngo,wikidata:Q1|bioguide:W000779"))
    assert report.ok and (report.created, report.updated) == (0, 1)
    assert report.plans[0].matched_by == "matched by wikidata:Q1"
    assert not Actor.objects.filter(slug="b").exists()
    identifiers = Actor.objects.get(slug="a").identifiers.values_list("scheme", flat=True)
    assert sorted(identifiers) == ["bioguide", "wikidata"]


def test_offline_sources_are_keyed_and_referenced_by_title(world):
    header = "url,title,publisher,kind,archive_url,published_on"
    assert run("sources", csv_bytes(header, ",Briefing note,,report,,")).created == 1
    assert run("sources", csv_bytes(header, ",Briefing note,Reuters,report,,")).updated == 1
    report = run("statements", csv_bytes(HEADER, statement_line(source="Briefing note")))
    assert report.ok, report.errors
    assert Statement.objects.get().source.publisher == "Reuters"
    report = run("statements", csv_bytes(HEADER, statement_line("s2", source="No such note")))
    assert errors_of(report) == [
        (
            2,
            "source",
            "No source has the URL or title 'No such note': import it in a sources file first.",
        )
    ]


def test_a_blank_choice_cell_keeps_the_stored_value_of_an_existing_record(tmp_path):
    """A blank `status` must not unpublish: defaults are for new records only."""
    from django.core.management import call_command

    from positions.models import Statement, StatementStatus

    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    statement = Statement.objects.get(import_ref="demo-cisco-warns")
    path = tmp_path / "statements.csv"
    path.write_text(
        "import_ref,question,date,stance,signatories,summary,status,attribution,date_precision\n"
        f"demo-cisco-warns,un-convention-against-cybercrime/adoption-by-the-un-general-assembly,"
        f"2024-11-01,opposes,cisco,{statement.summary.replace(',', '')},,,\n",
        encoding="utf-8",
    )
    call_command("import_data", "statements", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    statement.refresh_from_db()
    assert statement.status == StatementStatus.PUBLISHED
    assert statement.attribution == "reported"
    assert statement.date_precision == "month"
