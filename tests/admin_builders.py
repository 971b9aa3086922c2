"""Users of the editorial groups, and the POST data of the statement admin form."""

from django.contrib.auth.models import Group
from django.urls import reverse

from positions.models import StatementStatus
from tests.factories import UserFactory


def use_test_settings(settings):
    """Tests run with production settings (DEBUG off); two of them need a test's view."""
    # Production redirects http to https; the test client speaks http.
    settings.SECURE_SSL_REDIRECT = False
    # The manifest storage needs `collectstatic`; the tests render pages without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def staff_in(group_name, **kwargs):
    """A staff user whose only rights come from `group_name` (the data migration's groups)."""
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def admin_url(model_name, view="changelist", *args):
    return reverse(f"admin:positions_{model_name}_{view}", args=args)


def statement_form_data(statement=None, *, signatories=(), **overrides):
    """
    What the statement change form posts: `statement`'s current values, its saved
    signatories, then `signatories` (actors) as new rows, then `overrides`.
    """
    data = {
        "question": "",
        "date": "2024-10-01",
        "date_precision": "day",
        "stance": "supports",
        "conditions": [],
        "summary": "",
        "quote": "",
        "quote_locator": "",
        "attribution": "own_words",
        "source": "",
        "status": StatementStatus.DRAFT,
        "correction_note": "",
        "import_ref": "",
    }
    saved = []
    if statement is not None:
        data.update(
            question=statement.question_id,
            date=statement.date.isoformat(),
            date_precision=statement.date_precision,
            stance=statement.stance,
            conditions=[c.pk for c in statement.conditions.all()],
            summary=statement.summary,
            quote=statement.quote,
            quote_locator=statement.quote_locator,
            attribution=statement.attribution,
            source=statement.source_id or "",
            status=statement.status,
            correction_note=statement.correction_note,
            import_ref=statement.import_ref,
        )
        saved = list(statement.signatures.all())
    rows = [
        {"id": s.pk, "statement": statement.pk, "actor": s.actor_id, "order": s.order}
        | ({"is_lead": "on"} if s.is_lead else {})
        for s in saved
    ] + [
        {"actor": actor.pk, "order": len(saved) + i}
        | ({"is_lead": "on"} if not saved and i == 0 else {})
        for i, actor in enumerate(signatories)
    ]
    data.update(
        {
            "signatures-TOTAL_FORMS": str(len(rows)),
            "signatures-INITIAL_FORMS": str(len(saved)),
            "signatures-MIN_NUM_FORMS": "0",
            "signatures-MAX_NUM_FORMS": "1000",
        }
    )
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"signatures-{index}-{key}"] = value
    data.update(overrides)
    return data
