"""Create or complete one actor of kind "state" per ISO 3166-1 country: `manage.py load_states`."""

from django.core.management.base import BaseCommand

from positions.states import load_states


class Command(BaseCommand):
    help = (
        "Create one state actor per ISO 3166-1 country (name, country code, an iso3166 "
        "identifier). Safe to run again: existing state actors are matched by country code "
        "and only completed, never duplicated or renamed."
    )

    def handle(self, *args, verbosity, **options):
        def progress(done, total):
            if verbosity:
                self.stdout.write(f"{done}/{total} countries")

        counts = load_states(progress=progress)
        if verbosity:
            self.stdout.write(
                f"States: {counts['created']} created, {counts['completed']} completed "
                f"(country or identifier added), {counts['unchanged']} unchanged."
            )
