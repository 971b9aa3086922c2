"""
Positions keep a copy of their actor's kind too, so that a board's tally by kind (its default
split and the tally's composition) counts its positions without joining every actor of the
question.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_actor_kinds(apps, schema_editor):
    Position = apps.get_model("positions", "Position")
    Actor = apps.get_model("positions", "Actor")
    Position.objects.update(
        actor_kind=Subquery(Actor.objects.filter(pk=OuterRef("actor_id")).values("kind")[:1])
    )


class Migration(migrations.Migration):

    dependencies = [
        ("positions", "0029_source_list_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="position",
            name="actor_kind",
            field=models.CharField(
                choices=[
                    ("state", "State"),
                    ("government", "Government or agency"),
                    ("legislator", "Legislator"),
                    ("legislative_group", "Legislative group or party"),
                    ("company", "Company"),
                    ("ngo", "NGO or civil-society group"),
                    ("intergovernmental", "Intergovernmental body"),
                    ("expert", "Individual expert"),
                    ("media", "Media"),
                ],
                default="",
                max_length=32,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(copy_actor_kinds, migrations.RunPython.noop, elidable=True),
    ]
