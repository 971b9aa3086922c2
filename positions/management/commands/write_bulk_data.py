"""
Write the whole-data-set downloads to BULK_DATA_DIR now: `manage.py write_bulk_data`.

The background worker writes them after every burst of writes (`positions/bulkdata.py`);
this is for a first install, after a restore, or for a cron job where no worker runs.
"""

import time

from django.core.management.base import BaseCommand

from positions import bulkdata


class Command(BaseCommand):
    help = "Write the whole-data-set downloads (CSV, JSON, Popolo, each gzipped) to disk."

    def handle(self, *args, verbosity, **options):
        started = time.monotonic()

        def progress(name, entry, seconds):
            if verbosity:
                rate = entry["size"] / seconds / 1e6 if seconds else 0
                size, packed = entry["size"] / 1e6, entry["gzip_size"] / 1e6
                self.stdout.write(
                    f"  {name:<20} {size:9.2f} MB  (gzip {packed:.2f} MB)"
                    f"  {seconds:6.2f} s  {rate:5.1f} MB/s"
                )

        if verbosity:
            self.stdout.write(f"Writing the bulk files to {bulkdata.directory()}:")
        manifest = bulkdata.write_files(progress)
        if verbosity:
            total = sum(entry["size"] for entry in manifest["files"].values())
            self.stdout.write(
                f"{len(manifest['files'])} files, {total / 1e6:.1f} MB, as of "
                f"{manifest['as_of']}, in {time.monotonic() - started:.1f} s."
            )
