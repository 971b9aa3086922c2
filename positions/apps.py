from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate


def use_sqlite_wal(sender, connection, **kwargs):
    """SQLite in WAL mode lets readers go on while an editor writes."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode=WAL;")
            cursor.execute("PRAGMA synchronous=NORMAL;")


class PositionsConfig(AppConfig):
    name = "positions"
    verbose_name = "Positions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        connection_created.connect(use_sqlite_wal, dispatch_uid="positions.use_sqlite_wal")
        from . import sqlite_fts, writes

        # The SQL function that SQLite's search index triggers call (positions/sqlite_fts.py).
        connection_created.connect(
            sqlite_fts.register_functions, dispatch_uid="positions.sqlite_fts.functions"
        )
        # The write path's hook after migrate, and its guard against writes that bypass it.
        writes.connect(self)
        # SQLite's search index loses its triggers when a migration rebuilds the statement
        # table: schema upkeep after migrate, no domain work (see positions/sqlite_fts.py).
        post_migrate.connect(
            sqlite_fts.repair_after_migrate, sender=self, dispatch_uid="positions.sqlite_fts"
        )
