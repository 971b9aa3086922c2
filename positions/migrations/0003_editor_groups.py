"""
The two editorial groups: Editors write drafts; Publishers also publish, unpublish and retract.

On a fresh database the permissions do not exist yet while migrations run (Django creates them
after `migrate`, in a post_migrate signal), so this migration creates them first, from the
migration state. The lists below are a snapshot on purpose: a later migration changes them.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITED_MODELS = [
    "actor",
    "actoridentifier",
    "topic",
    "question",
    "source",
    "condition",
    "statement",
    "signatory",
]
EDITOR_PERMISSIONS = [
    f"{action}_{model}" for model in EDITED_MODELS for action in ("view", "add", "change")
] + [
    # Rows edited inside their parent's page: removing a wrong signatory or identifier.
    # Deleting statements themselves is for superusers only (retract instead).
    "delete_signatory",
    "delete_actoridentifier",
]
PUBLISHER_PERMISSIONS = EDITOR_PERMISSIONS + ["publish_statement"]

GROUPS = {"Editors": EDITOR_PERMISSIONS, "Publishers": PUBLISHER_PERMISSIONS}


def create_groups(apps, schema_editor):
    app_config = apps.get_app_config("positions")
    # create_permissions skips apps without a models module; the migration state has none.
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        permissions = Permission.objects.using(schema_editor.connection.alias).filter(
            content_type__app_label="positions", codename__in=codenames
        )
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for group {name}: {sorted(missing)}")
        group, _ = Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)
        group.permissions.set(permissions)


def delete_groups(apps, schema_editor):
    """Only groups nobody is in: deleting a group would drop its users' memberships, which
    applying this migration again (get_or_create) could not bring back."""
    Group = apps.get_model("auth", "Group")
    groups = Group.objects.using(schema_editor.connection.alias).filter(name__in=GROUPS)
    groups.filter(user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("positions", "0002_statement_date_precision_optional_source_url"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
