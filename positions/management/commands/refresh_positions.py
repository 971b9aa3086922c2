"""
Recompute every current position from the record: `manage.py refresh_positions`.

Positions follow every write made through Django (see `positions/stances.py`); this is for
data written behind its back (raw SQL, a restored database dump) and costs about a minute a
million statements.
"""

import time

from django.core.management.base import BaseCommand
from django.db import transaction

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
        if verbosity:
            self.stdout.write(
                f"{Position.objects.count():,} current positions computed in "
                f"{time.monotonic() - started:.1f} s."
            )
