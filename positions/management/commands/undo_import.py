"""
Undo a confirmed import, as the admin's "Undo this import" does:

    manage.py undo_import BATCH_ID [--user NAME]

The batch's number is in the import's summary ("recorded as import #7") and in the admin's
list of imports. Nothing is undone if a record the import wrote changed since: the command
lists them. Without --user the server's operator undoes it; with --user, that user (who must
be a Publisher) is recorded in history.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from positions.exchange import batches
from positions.models import ImportBatch


class Command(BaseCommand):
    help = "Undo an import (its number is in the import's summary and the admin's imports)."

    def add_arguments(self, parser):
        parser.add_argument("batch_id", help="The import's number, e.g. 7.")
        parser.add_argument("--user", help="Record the undo as this Publisher's.")

    def handle(self, *args, batch_id, user=None, **options):
        batch = ImportBatch.objects.filter(pk=int(batch_id)).first() if batch_id.isdigit() else None
        if batch is None:
            raise CommandError(f"No import #{batch_id}.")
        if user:
            try:
                user = get_user_model().objects.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user named {user!r}.") from None
        try:
            batches.undo(batch, user)
        except batches.UndoRefused as refused:
            for conflict in refused.conflicts:
                self.stderr.write(str(conflict))
            if len(refused.conflicts) < getattr(refused.conflicts, "total", 0):
                self.stderr.write(
                    f"... and {refused.conflicts.total - len(refused.conflicts)} more."
                )
            raise CommandError(refused.message) from None
        self.stdout.write(f"Undid import #{batch.pk} ({batch.file_name}, {batch.kind}).")
