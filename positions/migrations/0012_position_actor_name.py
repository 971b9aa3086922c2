"""
Positions keep a copy of their actor's name, so that a board reads its positions in order
from an index rather than joining and sorting every actor of the question; the single-column
foreign key indexes go, as the composite indexes begin with those columns.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_actor_names(apps, schema_editor):
    Position = apps.get_model("positions", "Position")
    Actor = apps.get_model("positions", "Actor")
    Position.objects.update(
        actor_name=Subquery(Actor.objects.filter(pk=OuterRef("actor_id")).values("name")[:1])
    )


class Migration(migrations.Migration):

    dependencies = [
        ('positions', '0011_actor_aliases_trigram_index'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='position',
            name='position_question_stance_idx',
        ),
        migrations.AddField(
            model_name='position',
            name='actor_name',
            field=models.CharField(default='', max_length=200),
            preserve_default=False,
        ),
        migrations.RunPython(copy_actor_names, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name='position',
            name='actor',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='positions', to='positions.actor'),
        ),
        migrations.AlterField(
            model_name='position',
            name='question',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='positions.question'),
        ),
        migrations.AddIndex(
            model_name='position',
            index=models.Index(fields=['question', 'actor_name', 'actor'], name='position_board_idx'),
        ),
        migrations.AddIndex(
            model_name='position',
            index=models.Index(fields=['question', 'stance', 'actor_name', 'actor'], name='position_stance_idx'),
        ),
    ]
