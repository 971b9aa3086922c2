"""
Whole-database backups as JSON Lines, portable between SQLite and PostgreSQL.

Used by `manage.py backup` and `manage.py restore` (see docs/operations.md). A backup holds
every row of every model, history and the admin log included, with the database ids kept
(they are in public addresses such as /statements/42/). What `migrate` recreates by itself
(content types, permissions) and what is short-lived (sessions, sign-in attempt logs) is left
out; references to content types and permissions are written as natural keys, which is what
makes a backup portable between databases whose ids for them differ.
"""

import datetime
import json
import os
from collections import Counter

from django.apps import apps
from django.core.serializers import sort_dependencies
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch

# app_label or app_label.model_name
EXCLUDED = {
    "contenttypes",  # recreated by migrate, referenced by natural key
    "auth.permission",  # recreated by migrate, referenced by natural key
    "sessions",  # signing everyone out after a restore is a feature
    "axes",  # sign-in attempt logs: short-lived security data, not the record
    "positions.position",  # derived from statements: restore rebuilds it
    "positions.hiddenactor",  # derived, likewise
    "positions.hiddensource",  # derived, likewise
    "positions.stancecountday",  # derived, likewise
    "positions.statementcount",  # derived, likewise
    # The background tasks' queue and results (django-tasks): work in flight, not the record.
    # A restore schedules the bulk files again; a queued import is queued again by its job.
    "django_tasks_database",
}


def is_backed_up(model):
    meta = model._meta
    if meta.proxy or not meta.managed or meta.auto_created:
        return False  # proxies have no table; m2m tables travel with their model
    return meta.app_label not in EXCLUDED and meta.label_lower not in EXCLUDED


def backed_up_models():
    """Every model in the backup, in an order where natural-key targets come first."""
    app_list = [
        (config, [m for m in config.get_models() if is_backed_up(m)])
        for config in apps.get_app_configs()
    ]
    return sort_dependencies([(c, ms) for c, ms in app_list if ms], allow_cycles=True)


def rows_to_back_up(model, database):
    """All rows of `model` by id, with what natural keys and many-to-many lists need joined in
    or prefetched, so the number of queries does not grow with the number of rows."""
    natural_key_fks = [
        field.name
        for field in model._meta.concrete_fields
        if field.is_relation and hasattr(field.related_model, "natural_key")
    ]
    m2m = [
        Prefetch(
            field.name,
            queryset=field.related_model._base_manager.select_related()
            if hasattr(field.related_model, "natural_key")
            else field.related_model._base_manager.only("pk"),
        )
        for field in model._meta.local_many_to_many
        if field.remote_field.through._meta.auto_created
    ]
    queryset = model._default_manager.using(database).order_by("pk")
    return queryset.select_related(*natural_key_fks).prefetch_related(*m2m)


class FullPrecisionEncoder(DjangoJSONEncoder):
    """Django's encoder drops microseconds below the millisecond; a backup keeps them all."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


def serialize_options():
    return {
        "use_natural_foreign_keys": True,
        "use_natural_primary_keys": False,
        "cls": FullPrecisionEncoder,
    }


def create_private_file(path):
    """
    Create (or empty) the file at `path`, readable and writable by its owner only (0600),
    before anything is written to it: a backup holds password hashes and drafts.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # an existing file keeps its mode through O_CREAT
    finally:
        os.close(descriptor)


def count_rows_in_file(lines):
    """Rows per model in a backup, read line by line; ValueError for a line that is not one."""
    counts = Counter()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as error:
            raise ValueError(f"line {number} is not JSON ({error})") from error
        if not (isinstance(row, dict) and isinstance(row.get("model"), str)):
            raise ValueError(f"line {number} is not a row of a backup")
        counts[row["model"]] += 1
    return counts
