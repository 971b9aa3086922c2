"""
Recompute every current position from the record: `manage.py refresh_positions`.

Positions follow every write made through the write path (see `positions/writes.py`); this is for
data written behind its back (raw SQL, a restored database dump) and costs about a minute a
million statements.
"""

import time

from django.core.management.base import BaseCommand

from positions import writes
from positions.models import Position


class Command(BaseCommand):
    help = "Recompute the current positions of every actor from the published statements."

    def handle(self, *args, verbosity, **options):
        started = time.monotonic()
        with writes.writing():
            writes.rebuild_positions()
        if verbosity:
            self.stdout.write(
                f"{Position.objects.count():,} current positions computed in "
                f"{time.monotonic() - started:.1f} s."
            )
