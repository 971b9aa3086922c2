"""
Folded names (`positions.folding`): the actor's name and aliases without case or accents,
kept by the write path, for search, import matching and the duplicate check. Existing actors
get theirs here; on PostgreSQL, trigram indexes answer the search's substring match.
"""

from django.db import migrations, models

INDEXES = {
    "actor_folded_name_trgm_idx": "folded_name",
    "actor_folded_aliases_trgm_idx": "folded_aliases",
}


def fold_existing(apps, schema_editor):
    from positions.folding import fold, fold_lines

    Actor = apps.get_model("positions", "Actor")
    actors = list(Actor.objects.only("pk", "name", "aliases"))
    for actor in actors:
        actor.folded_name = fold(actor.name)
        actor.folded_aliases = fold_lines(actor.aliases)
    Actor.objects.bulk_update(actors, ["folded_name", "folded_aliases"], batch_size=500)


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON positions_actor USING gin ({column} gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("positions", "0017_question_deciding_body_and_rule"),
    ]

    operations = [
        migrations.AddField(
            model_name="actor",
            name="folded_aliases",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="actor",
            name="folded_name",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=200),
        ),
        migrations.AddField(
            model_name="historicalactor",
            name="folded_aliases",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name="historicalactor",
            name="folded_name",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=200),
        ),
        migrations.RunPython(fold_existing, migrations.RunPython.noop, elidable=False),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
