"""
The editorial record in the admin: Editors write drafts, Publishers publish, unpublish and
retract, only superusers delete; every path that could publish is closed to Editors; history
records who changed what. The rules are described in docs/editorial.md.
"""

import importlib

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import RequestFactory

from positions import editorial
from positions.models import Stance, Statement, StatementStatus
from tests.admin_builders import admin_url, staff_in, statement_form_data, use_test_settings
from tests.factories import (
    ActorFactory,
    ConditionFactory,
    QuestionFactory,
    SourceFactory,
    StatementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DRAFT, PUBLISHED, RETRACTED = (
    StatementStatus.DRAFT,
    StatementStatus.PUBLISHED,
    StatementStatus.RETRACTED,
)


@pytest.fixture(autouse=True)
def _admin_test_settings(settings):
    use_test_settings(settings)


@pytest.fixture
def editor():
    return staff_in("Editors")


@pytest.fixture
def publisher():
    return staff_in("Publishers")


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def reload(statement):
    return Statement.objects.get(pk=statement.pk)


# --- The groups ----------------------------------------------------------------------------

EDITED = [
    "actor",
    "actoridentifier",
    "topic",
    "question",
    "source",
    "condition",
    "statement",
    "formalact",
]


def codenames(group_name):
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


def test_migrate_gives_editors_view_add_change_on_every_model_but_no_statement_delete():
    granted = codenames("Editors")
    for model in [*EDITED, "signatory"]:
        assert {f"view_{model}", f"add_{model}", f"change_{model}"} <= granted
    assert "delete_statement" not in granted
    assert "publish_statement" not in granted
    assert granted - {p for m in [*EDITED, "signatory"] for p in (f"view_{m}", f"add_{m}")} - {
        f"change_{m}" for m in [*EDITED, "signatory"]
    } == {
        "delete_signatory",
        "delete_actoridentifier",
        *MEMBERSHIP,
        # A condition's status history is edited inside its page (migration 0015).
        "view_conditionstatuschange",
        "add_conditionstatuschange",
        "change_conditionstatuschange",
        "delete_conditionstatuschange",
    }


# Memberships are edited inside the actor's page, removals included (migration 0014).
MEMBERSHIP = {f"{action}_membership" for action in ("view", "add", "change", "delete")}


def test_migrate_gives_publishers_what_editors_have_plus_publishing():
    assert codenames("Publishers") == codenames("Editors") | {"publish_statement"}


def test_the_group_migration_creates_missing_permissions_and_is_reversible():
    """On a fresh database the permissions do not exist yet when the migration runs."""
    migration = importlib.import_module("positions.migrations.0003_editor_groups")
    state_apps = (
        MigrationExecutor(connection).loader.project_state(("positions", "0003_editor_groups")).apps
    )

    class SchemaEditor:  # what RunPython functions use of it
        connection = connection

    Permission.objects.filter(content_type__app_label="positions").delete()
    Group.objects.all().delete()

    migration.create_groups(state_apps, SchemaEditor)
    assert codenames("Editors") == set(migration.EDITOR_PERMISSIONS)
    assert codenames("Publishers") == set(migration.EDITOR_PERMISSIONS) | {"publish_statement"}

    migration.delete_groups(state_apps, SchemaEditor)
    assert not Group.objects.filter(name__in=["Editors", "Publishers"]).exists()

    migration.create_groups(state_apps, SchemaEditor)  # and forwards again
    assert Group.objects.filter(name__in=["Editors", "Publishers"]).count() == 2


def test_the_models_permission_is_the_one_the_rules_check(publisher, editor):
    assert editorial.PUBLISH_PERMISSION == "positions.publish_statement"
    assert editorial.can_publish(publisher)
    assert not editorial.can_publish(editor)


# --- Editors write drafts ------------------------------------------------------------------


def test_an_editor_creates_a_draft_and_is_stamped_as_creator_and_updater(client, editor):
    question, source, actor = QuestionFactory(), SourceFactory(), ActorFactory()
    client.force_login(editor)
    data = statement_form_data(
        signatories=[actor], question=question.pk, source=source.pk, summary="Backs adoption."
    )
    response = client.post(admin_url("statement", "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    statement = Statement.objects.get()
    assert statement.status == DRAFT
    assert statement.created_by == editor and statement.updated_by == editor
    assert [s.actor for s in statement.signatures.all()] == [actor]
    assert statement.first_published_at is None


def test_the_add_form_offers_editors_the_draft_status_only(client, editor, publisher):
    client.force_login(editor)
    form = client.get(admin_url("statement", "add")).context["adminform"].form
    assert [value for value, _ in form.fields["status"].choices] == [DRAFT]
    client.force_login(publisher)
    form = client.get(admin_url("statement", "add")).context["adminform"].form
    assert [value for value, _ in form.fields["status"].choices] == [DRAFT, PUBLISHED]


@pytest.mark.parametrize("status", [PUBLISHED, RETRACTED])
def test_a_crafted_post_cannot_make_an_editor_create_a_public_statement(client, editor, status):
    client.force_login(editor)
    data = statement_form_data(
        signatories=[ActorFactory()],
        question=QuestionFactory().pk,
        source=SourceFactory().pk,
        summary="Tampered.",
        status=status,
        correction_note="x",
    )
    response = client.post(admin_url("statement", "add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["status"] == [editorial.ONLY_PUBLISHERS]
    assert not Statement.objects.exists()


def test_an_editor_changes_a_draft_and_becomes_its_updater(client, editor):
    author = UserFactory()
    draft = StatementFactory(status=DRAFT, created_by=author, updated_by=author)
    client.force_login(editor)
    response = client.post(
        admin_url("statement", "change", draft.pk),
        statement_form_data(draft, summary="Better summary."),
    )
    assert response.status_code == 302
    draft = reload(draft)
    assert draft.summary == "Better summary."
    assert draft.created_by == author and draft.updated_by == editor
    assert draft.history.first().history_user == editor


def test_a_crafted_post_cannot_make_an_editor_publish_a_draft(client, editor):
    draft = StatementFactory(status=DRAFT)
    client.force_login(editor)
    response = client.post(
        admin_url("statement", "change", draft.pk), statement_form_data(draft, status=PUBLISHED)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["status"] == [editorial.ONLY_PUBLISHERS]
    assert reload(draft).status == DRAFT


# --- Published statements belong to Publishers ---------------------------------------------


def test_an_editor_sees_a_published_statement_read_only_with_the_reason(client, editor):
    published = StatementFactory()
    client.force_login(editor)
    response = client.get(admin_url("statement", "change", published.pk))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert "summary" not in response.context["adminform"].form.fields
    assert editorial.locked_message(PUBLISHED) in messages_of(response)
    assert "Ask a Publisher" in editorial.locked_message(PUBLISHED)


@pytest.mark.parametrize(
    "changes", [{"summary": "Quietly edited."}, {"status": DRAFT}, {"status": RETRACTED}]
)
def test_a_crafted_post_cannot_make_an_editor_change_a_published_statement(client, editor, changes):
    published = StatementFactory()
    client.force_login(editor)
    url = admin_url("statement", "change", published.pk)
    response = client.post(url, statement_form_data(published, correction_note="x", **changes))
    assert response.status_code == 302 and response.url == url
    assert "Your changes were not saved." in messages_of(response)
    after = reload(published)
    assert (after.status, after.summary) == (PUBLISHED, published.summary)
    assert after.history.count() == 1


def test_save_as_new_cannot_be_used_to_edit_a_published_statement(client, editor):
    published = StatementFactory()
    client.force_login(editor)
    url = admin_url("statement", "change", published.pk)
    client.post(url, statement_form_data(published, summary="Copy.") | {"_saveasnew": "1"})
    assert Statement.objects.count() == 1


def test_fields_readers_rely_on_cannot_be_posted(client, editor):
    """Stamps and authors are set by the admin, never taken from the request."""
    draft = StatementFactory(status=DRAFT)
    other = UserFactory()
    client.force_login(editor)
    client.post(
        admin_url("statement", "change", draft.pk),
        statement_form_data(
            draft,
            first_published_at="2020-01-01 00:00",
            retracted_at="2020-01-01 00:00",
            created_by=other.pk,
            updated_by=other.pk,
        ),
    )
    draft = reload(draft)
    assert draft.first_published_at is None and draft.retracted_at is None
    assert draft.created_by is None and draft.updated_by == editor


def test_an_editor_cannot_change_the_signatories_of_a_published_statement(client, editor):
    published = StatementFactory()
    client.force_login(editor)
    page = client.get(admin_url("statement", "change", published.pk))
    signatories = page.context["inline_admin_formsets"][0]
    assert not signatories.has_add_permission
    assert not signatories.has_change_permission
    assert not signatories.has_delete_permission


def test_the_form_refuses_an_edit_of_a_published_statement_whatever_path_reaches_it(editor):
    """The form itself checks the stored status, so a path that skips the admin's permission
    check (an old version being reverted, a future view) still cannot edit it."""
    from positions.forms import StatementAdminForm

    published = StatementFactory()
    form_class = type("Form", (StatementAdminForm,), {"editor": editor})
    form = form_class(statement_form_data(published, summary="Edited."), instance=published)
    assert not form.is_valid()
    assert form.non_field_errors() == [editorial.locked_message(PUBLISHED)]


# --- Publishers ----------------------------------------------------------------------------


def test_a_publisher_publishes_from_the_form_and_the_date_is_stamped(client, publisher):
    draft = StatementFactory(status=DRAFT)
    client.force_login(publisher)
    response = client.post(
        admin_url("statement", "change", draft.pk), statement_form_data(draft, status=PUBLISHED)
    )
    assert response.status_code == 302
    draft = reload(draft)
    assert draft.status == PUBLISHED
    assert draft.first_published_at is not None
    assert draft.updated_by == publisher
    assert draft.history.first().history_change_reason == "Status set to published"


def test_a_statement_needs_a_source_to_be_published(client, publisher):
    draft = StatementFactory(status=DRAFT, source=None)
    client.force_login(publisher)
    response = client.post(
        admin_url("statement", "change", draft.pk), statement_form_data(draft, status=PUBLISHED)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["source"] == [
        "A statement needs a source before it is published."
    ]
    assert reload(draft).status == DRAFT


def test_a_conditional_statement_must_name_a_condition(client, editor):
    draft = StatementFactory(status=DRAFT, stance=Stance.CONDITIONAL)
    client.force_login(editor)
    response = client.post(
        admin_url("statement", "change", draft.pk), statement_form_data(draft, conditions=[])
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["conditions"] == [
        Statement.conditions_error(Stance.CONDITIONAL, [])
    ]
    assert reload(draft).conditions.count() == 1


def test_retracting_from_the_form_needs_a_correction_note(client, publisher):
    published = StatementFactory()
    client.force_login(publisher)
    url = admin_url("statement", "change", published.pk)
    response = client.post(url, statement_form_data(published, status=RETRACTED))
    assert response.context["adminform"].form.errors["correction_note"] == [
        "A retraction needs a correction note for readers."
    ]
    assert reload(published).status == PUBLISHED
    response = client.post(
        url, statement_form_data(published, status=RETRACTED, correction_note="Misquoted.")
    )
    assert response.status_code == 302
    retracted = reload(published)
    assert (retracted.status, retracted.correction_note) == (RETRACTED, "Misquoted.")
    assert retracted.retracted_at is not None


def test_a_retraction_is_final(client, publisher):
    retracted = StatementFactory(status=RETRACTED)
    client.force_login(publisher)
    url = admin_url("statement", "change", retracted.pk)
    form = client.get(url).context["adminform"].form
    assert [value for value, _ in form.fields["status"].choices] == [RETRACTED]
    response = client.post(url, statement_form_data(retracted, status=PUBLISHED))
    assert response.status_code == 200
    assert reload(retracted).status == RETRACTED
    # The note itself can still be corrected.
    response = client.post(url, statement_form_data(retracted, correction_note="Clearer note."))
    assert response.status_code == 302
    assert reload(retracted).correction_note == "Clearer note."


# --- Actions -------------------------------------------------------------------------------


def post_action(client, action, statements, **extra):
    return client.post(
        admin_url("statement"),
        {"action": action, "_selected_action": [s.pk for s in statements], "index": 0} | extra,
    )


def test_editors_are_not_offered_the_publishing_actions(client, editor, publisher):
    StatementFactory()
    client.force_login(editor)
    assert client.get(admin_url("statement")).context["action_form"] is None  # no action at all
    client.force_login(publisher)
    offered = client.get(admin_url("statement")).context["action_form"].fields["action"].choices
    assert [name for name, _ in offered if name] == [
        "publish_statements",
        "unpublish_statements",
        "retract_statements",
    ]


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("publish_statements", DRAFT),
        ("unpublish_statements", PUBLISHED),
        ("retract_statements", PUBLISHED),
    ],
)
def test_a_posted_action_is_refused_to_an_editor(client, editor, action, status):
    statement = StatementFactory(status=status)
    client.force_login(editor)
    response = post_action(client, action, [statement], apply="yes", correction_note="x")
    assert response.status_code == 200  # the list again: no action ran
    assert reload(statement).status == status


@pytest.mark.parametrize(
    "action", ["publish_statements", "unpublish_statements", "retract_statements"]
)
def test_the_actions_themselves_refuse_an_editor(editor, action):
    """Second lock, should an action ever be offered by mistake."""
    statement = StatementFactory(status=DRAFT)
    request = RequestFactory().post("/", {"apply": "yes", "correction_note": "x"})
    request.user = editor
    with pytest.raises(PermissionDenied):
        getattr(site._registry[Statement], action)(request, Statement.objects.all())
    assert reload(statement).status == DRAFT


def test_publishing_in_bulk_publishes_what_is_ready_and_says_why_the_rest_is_not(client, publisher):
    ready = StatementFactory(status=DRAFT)
    no_source = StatementFactory(status=DRAFT, source=None)
    no_condition = StatementFactory(status=DRAFT, stance=Stance.CONDITIONAL, conditions=[])
    no_condition.conditions.clear()
    no_signatory = StatementFactory(status=DRAFT)
    no_signatory.signatures.all().delete()
    retracted = StatementFactory(status=RETRACTED)
    client.force_login(publisher)
    response = post_action(
        client, "publish_statements", [ready, no_source, no_condition, no_signatory, retracted]
    )
    assert response.status_code == 302
    assert reload(ready).status == PUBLISHED and reload(ready).first_published_at
    assert reload(ready).updated_by == publisher
    assert [reload(s).status for s in (no_source, no_condition, no_signatory, retracted)] == [
        DRAFT,
        DRAFT,
        DRAFT,
        RETRACTED,
    ]
    said = messages_of(response)
    assert "1 statement published." in said
    assert any("needs a source" in m for m in said)
    assert any("must name at least one condition" in m for m in said)
    assert any("at least one signatory" in m for m in said)
    assert any("retraction is final" in m for m in said)


def test_unpublishing_takes_a_statement_back_to_draft(client, publisher):
    published = StatementFactory()
    client.force_login(publisher)
    post_action(client, "unpublish_statements", [published])
    assert reload(published).status == DRAFT
    assert reload(published).history.first().history_user == publisher


def test_retracting_asks_for_the_note_on_an_intermediate_page(client, publisher):
    published, draft = StatementFactory(), StatementFactory(status=DRAFT)
    client.force_login(publisher)
    page = post_action(client, "retract_statements", [published, draft])
    assert page.status_code == 200
    assert page.templates[0].name == "admin/positions/statement/retract_confirmation.html"
    assert page.context["retractable"] == [published]
    assert page.context["not_retractable"] == [draft]
    assert reload(published).status == PUBLISHED

    # The page posts back without "index", as Django's own delete confirmation does.
    confirm = {"action": "retract_statements", "_selected_action": [published.pk, draft.pk]}
    page = client.post(admin_url("statement"), confirm | {"apply": "yes", "correction_note": " "})
    assert page.status_code == 200
    assert page.context["form"].errors["correction_note"]
    assert reload(published).status == PUBLISHED

    response = client.post(
        admin_url("statement"),
        confirm | {"apply": "yes", "correction_note": "The quote was from another speaker."},
    )
    assert response.status_code == 302
    retracted = reload(published)
    assert retracted.status == RETRACTED
    assert retracted.correction_note == "The quote was from another speaker."
    assert retracted.retracted_at is not None
    assert reload(draft).status == DRAFT


# --- Deleting ------------------------------------------------------------------------------


@pytest.mark.parametrize("group", ["Editors", "Publishers"])
def test_only_superusers_delete_statements(client, group):
    statement = StatementFactory(status=DRAFT)
    client.force_login(staff_in(group))
    assert client.get(admin_url("statement", "delete", statement.pk)).status_code == 403
    assert client.post(admin_url("statement", "delete", statement.pk)).status_code == 403
    post_action(client, "delete_selected", [statement], post="yes")
    assert Statement.objects.filter(pk=statement.pk).exists()


def test_a_superuser_deletes_and_the_history_keeps_the_deleted_statement(client):
    statement = StatementFactory(summary="Wrongly entered.")
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(admin_url("statement", "delete", statement.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Statement.objects.filter(pk=statement.pk).exists()
    deleted = Statement.history.filter(id=statement.pk).first()
    assert (deleted.history_type, deleted.history_user, deleted.summary) == (
        "-",
        admin,
        "Wrongly entered.",
    )


# --- History -------------------------------------------------------------------------------


def test_the_history_shows_who_changed_which_field_from_what_to_what(client, editor):
    draft = StatementFactory(status=DRAFT, summary="Old summary.")
    new_condition = ConditionFactory(text="Independent oversight")
    client.force_login(editor)
    client.post(
        admin_url("statement", "change", draft.pk),
        statement_form_data(draft, summary="New summary.", conditions=[new_condition.pk]),
    )
    response = client.get(admin_url("statement", "history", draft.pk))
    assert response.status_code == 200
    # simple-history records the save, then the change of conditions, as two versions.
    edits = [r for r in response.context["page_obj"] if r.history_type == "~"]
    assert {r.history_user for r in edits} == {editor}
    changes = {c["field"]: c for r in edits for c in r.history_delta_changes}
    assert (changes["Summary"]["old"], changes["Summary"]["new"]) == (
        "Old summary.",
        "New summary.",
    )
    assert (changes["Conditions"]["old"], changes["Conditions"]["new"]) == (
        "[]",
        "[Independent oversight]",
    )
    content = response.content.decode()
    assert "<strong>Summary:</strong>" in content and "&rarr;" in content  # the diff column
    assert editor.username in content


def test_the_history_of_an_actor_shows_the_field_diff(client, editor):
    actor = ActorFactory(name="US DoJ")
    client.force_login(editor)
    client.post(
        admin_url("actor", "change", actor.pk),
        {
            "name": "US Department of Justice",
            "slug": actor.slug,
            "kind": actor.kind,
            "identifiers-TOTAL_FORMS": "0",
            "identifiers-INITIAL_FORMS": "0",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "identifiers-MIN_NUM_FORMS": "0",
            "identifiers-MAX_NUM_FORMS": "1000",
        },
    )
    newest = client.get(admin_url("actor", "history", actor.pk)).context["page_obj"][0]
    assert newest.history_user == editor
    assert newest.history_delta_changes == [
        {"field": "Name", "old": "US DoJ", "new": "US Department of Justice"}
    ]


def test_the_statement_history_includes_its_signatories(client, editor):
    draft = StatementFactory(status=DRAFT)
    senator = ActorFactory(name="Ron Wyden")
    client.force_login(editor)
    client.post(
        admin_url("statement", "change", draft.pk),
        statement_form_data(draft, signatories=[senator]),
    )
    response = client.get(admin_url("statement", "history", draft.pk))
    records = list(response.context["signatory_history"])
    assert (records[0].actor, records[0].history_user) == (senator, editor)


def test_every_model_keeps_history_with_the_user(client, editor):
    client.force_login(editor)
    response = client.post(
        admin_url("source", "add"),
        {"title": "Letter", "kind": "letter", "url": "https://example.org/letter"},
    )
    assert response.status_code == 302
    from positions.models import Source

    assert Source.history.get().history_user == editor


def revert_url(statement, version):
    return admin_url("statement", "simple_history", statement.pk, version.history_id)


def test_an_editor_reverts_a_draft(client, editor):
    draft = StatementFactory(status=DRAFT, summary="First words.")
    old = draft.history.get()
    draft.summary = "Later words."
    draft.save()
    client.force_login(editor)
    assert client.get(revert_url(draft, old)).status_code == 200
    response = client.post(
        revert_url(draft, old), statement_form_data(draft, summary="First words.")
    )
    assert response.status_code == 302
    assert reload(draft).summary == "First words."
    assert reload(draft).history.first().history_user == editor


def test_an_editor_cannot_revert_a_published_statement(client, editor):
    published = StatementFactory(summary="First words.")
    old = published.history.get()
    published.summary = "Later words."
    published.save()
    client.force_login(editor)
    page = client.get(revert_url(published, old))
    assert page.context["revert_disabled"]
    response = client.post(
        revert_url(published, old), statement_form_data(published, summary="First words.")
    )
    assert response.status_code == 403
    assert reload(published).summary == "Later words."


def test_an_editor_cannot_republish_by_reverting_to_a_published_version(client, editor):
    statement = StatementFactory()  # published...
    published_version = statement.history.get()
    statement.mark_status(DRAFT)  # ...then unpublished by a publisher
    statement.save()
    client.force_login(editor)
    response = client.post(
        revert_url(statement, published_version), statement_form_data(statement, status=PUBLISHED)
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["status"] == [editorial.ONLY_PUBLISHERS]
    assert reload(statement).status == DRAFT


def test_a_view_only_user_cannot_revert(client):
    """simple-history checks only the view permission on its revert view; we check change."""
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_source"))
    source = SourceFactory(title="First title")
    old = source.history.get()
    source.title = "Second title"
    source.save()
    client.force_login(viewer)
    response = client.post(
        admin_url("source", "simple_history", source.pk, old.history_id),
        {"title": "First title", "kind": source.kind, "url": source.url},
    )
    assert response.status_code == 403
    source.refresh_from_db()
    assert source.title == "Second title"


# --- Joint statements ----------------------------------------------------------------------


def test_a_joint_statement_keeps_its_signatories_in_order_with_one_lead(client, editor):
    senators = [ActorFactory(name=name) for name in ["Wyden", "Durbin", "Markey"]]
    client.force_login(editor)
    data = statement_form_data(
        signatories=senators,
        question=QuestionFactory().pk,
        source=SourceFactory().pk,
        summary="Six senators warn.",
    )
    assert client.post(admin_url("statement", "add"), data).status_code == 302
    signatures = Statement.objects.get().signatures.all()
    assert [(s.actor.name, s.is_lead) for s in signatures] == [
        ("Wyden", True),
        ("Durbin", False),
        ("Markey", False),
    ]


def test_a_joint_statement_has_at_most_one_lead(client, editor):
    draft = StatementFactory(status=DRAFT)
    client.force_login(editor)
    data = statement_form_data(draft, signatories=[ActorFactory()])
    data["signatures-1-is_lead"] = "on"  # a second lead
    response = client.post(admin_url("statement", "change", draft.pk), data)
    assert response.status_code == 200
    assert "Only one signatory can be the lead" in str(
        response.context["inline_admin_formsets"][0].formset.non_form_errors()
    )
    assert draft.signatures.count() == 1


def test_a_statement_needs_a_signatory(client, editor):
    draft = StatementFactory(status=DRAFT)
    client.force_login(editor)
    data = statement_form_data(draft)
    data["signatures-0-DELETE"] = "on"
    response = client.post(admin_url("statement", "change", draft.pk), data)
    assert response.status_code == 200
    assert "at least one signatory" in str(
        response.context["inline_admin_formsets"][0].formset.non_form_errors()
    )
    assert draft.signatures.count() == 1


def test_a_revert_keeps_the_records_own_stamps(client, publisher):
    """Reverting to a version from before publication unpublishes but keeps the first date."""
    statement = StatementFactory(status=DRAFT)
    draft_version = statement.history.get()
    statement.mark_status(PUBLISHED)
    statement.save()
    first_published = reload(statement).first_published_at
    client.force_login(publisher)
    response = client.post(
        revert_url(statement, draft_version), statement_form_data(statement, status=DRAFT)
    )
    assert response.status_code == 302
    assert reload(statement).status == DRAFT
    assert reload(statement).first_published_at == first_published


def test_last_corrected_counts_only_changes_readers_see():
    statement = StatementFactory(status=DRAFT, summary="First words.")
    statement.mark_status(PUBLISHED)
    statement.save()
    assert editorial.last_corrected(statement) is None
    statement.save()  # a publisher pressing Save
    statement.mark_status(DRAFT)
    statement.save()
    statement.mark_status(PUBLISHED)
    statement.save()
    assert editorial.last_corrected(statement) is None
    statement.summary = "Corrected words."
    statement.save()
    corrected = editorial.last_corrected(statement)
    assert corrected == statement.history.first().history_date
    statement.mark_status(StatementStatus.RETRACTED, note="Wrong actor.")
    statement.save()
    assert editorial.last_corrected(statement) == statement.retracted_at


def test_the_statement_page_shows_the_last_correction(client):
    statement = StatementFactory(summary="First words.")
    assert b"Never" in client.get(statement.get_absolute_url()).content
    statement.summary = "Corrected words."
    statement.save()
    page = client.get(statement.get_absolute_url())
    assert page.context["last_corrected"] == statement.history.first().history_date


def test_an_editor_records_a_date_known_only_to_the_month(client, editor):
    draft = StatementFactory(status=DRAFT)
    client.force_login(editor)
    response = client.post(
        admin_url("statement", "change", draft.pk),
        statement_form_data(draft, date="2024-11-01", date_precision="month"),
    )
    assert response.status_code == 302
    assert reload(draft).date_display == "November 2024"
    refused = client.post(
        admin_url("statement", "change", draft.pk),
        statement_form_data(draft, date="2024-11-05", date_precision="month"),
    )
    assert "first day" in refused.content.decode()
