"""
Recompute every current position from the record: `manage.py refresh_positions`.

Positions follow every write made through Django (see `positions/stances.py`); this is for
data written behind its back (raw SQL, a restored database dump) and costs about a minute a
million statements.
"""

import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from positions import stances
from positions.caching import bump_data_version
from positions.models import Position


class Command(BaseCommand):
    help = "Recompute the current positions of every actor from the published statements."

    def handle(self, *args, verbosity, **options):
        started = time.monotonic()
        with transaction.atomic():
            stances.refresh_positions()
        bump_data_version()
        if connection.vendor == "postgresql":
            # The table was rewritten: give the planner its new row counts now rather than
            # whenever autovacuum comes by (it may be off), or lookups get planned as scans.
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {Position._meta.db_table}")
        if verbosity:
            self.stdout.write(
                f"{Position.objects.count():,} current positions computed in "
                f"{time.monotonic() - started:.1f} s."
            )
