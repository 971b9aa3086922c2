"""
Positions say whether their deciding statement names a condition, so that a board looks up
the conditions named for those positions only (a fifth of the largest board) instead of
probing the statement-condition index once per position.
"""

from django.db import migrations, models
from django.db.models import Exists, OuterRef


def copy_names_conditions(apps, schema_editor):
    Position = apps.get_model("positions", "Position")
    Statement = apps.get_model("positions", "Statement")
    named = Statement.conditions.through.objects.filter(statement_id=OuterRef("statement_id"))
    Position.objects.update(names_conditions=Exists(named))


class Migration(migrations.Migration):

    dependencies = [
        ("positions", "0030_position_actor_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="position",
            name="names_conditions",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(copy_names_conditions, migrations.RunPython.noop, elidable=True),
    ]
