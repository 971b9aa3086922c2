"""
The production settings with the development tools installed: `make bench` runs with
`DJANGO_SETTINGS_MODULE=bench.settings`. Everything else is read from the environment as
`tracker/settings.py` reads it, so the pages are measured as production serves them.
"""

from tracker.settings import *  # noqa: F403
from tracker.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
