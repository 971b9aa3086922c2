from django.apps import AppConfig
from django.db.backends.signals import connection_created


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
        # The write path's hook after migrate, and its guard against writes that bypass it.
        from . import writes

        writes.connect(self)
