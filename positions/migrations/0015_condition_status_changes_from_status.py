"""
One status change per condition whose status is not open, from its status, date and note; and
the editorial groups' rights on status changes (edited inside the condition's page: both
groups view, add, change and delete them, as they change a condition's status).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = [
    f"{action}_conditionstatuschange" for action in ("view", "add", "change", "delete")
]
GROUPS = ["Editors", "Publishers"]


def changes_from_status(apps, schema_editor):
    Condition = apps.get_model("positions", "Condition")
    ConditionStatusChange = apps.get_model("positions", "ConditionStatusChange")
    changes = [
        ConditionStatusChange(
            condition_id=condition.pk,
            status=condition.status,
            # An undated status is dated by the condition's last save: the best we know.
            date=condition.status_date or condition.updated_at.date(),
            note=condition.status_note,
        )
        for condition in Condition.objects.exclude(status="open").order_by("pk")
        if not ConditionStatusChange.objects.filter(condition_id=condition.pk).exists()
    ]
    ConditionStatusChange.objects.bulk_create(changes)


def grant(apps, schema_editor):
    alias = schema_editor.connection.alias
    app_config = apps.get_app_config("positions")
    # As in 0003: the permissions of a new model do not exist yet while migrations run.
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=alias)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(
        Permission.objects.using(alias).filter(
            content_type__app_label="positions", codename__in=PERMISSIONS
        )
    )
    for group in Group.objects.using(alias).filter(name__in=GROUPS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    alias = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(
        Permission.objects.using(alias).filter(
            content_type__app_label="positions", codename__in=PERMISSIONS
        )
    )
    for group in Group.objects.using(alias).filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("positions", "0014_condition_status_change"),
        ("positions", "0003_editor_groups"),
    ]

    operations = [
        migrations.RunPython(changes_from_status, migrations.RunPython.noop),
        migrations.RunPython(grant, revoke),
    ]
