"""
Editors and Publishers enter formal acts as they enter statements: Editors view, add and
change them (drafts only, by the editorial rules); Publishers, who hold `publish_statement`,
publish, unpublish and retract them too. Deleting an act is for superusers (retract instead).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ACT_PERMISSIONS = [f"{action}_formalact" for action in ("view", "add", "change")]
GROUPS = ("Editors", "Publishers")


def grant(apps, schema_editor):
    app_config = apps.get_app_config("positions")
    app_config.models_module = True  # create_permissions skips apps without one
    create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    permissions = list(
        Permission.objects.using(db).filter(
            content_type__app_label="positions", codename__in=ACT_PERMISSIONS
        )
    )
    for group in Group.objects.using(db).filter(name__in=GROUPS):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    permissions = Permission.objects.using(db).filter(
        content_type__app_label="positions", codename__in=ACT_PERMISSIONS
    )
    for group in Group.objects.using(db).filter(name__in=GROUPS):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [("positions", "0019_formal_acts")]

    operations = [migrations.RunPython(grant, revoke)]
