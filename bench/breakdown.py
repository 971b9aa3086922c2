"""
Where a cold page's time goes, in the bench process (no server, no network): its SQL
(execute and fetch, wherever it runs), the rendering of its template (less the queries the
template runs), and the rest (view code, model instances, the page cache, middleware).

Both are timed through hooks Django supports: SQL with `connection.execute_wrapper`, the
template with a template backend of our own (`TimedTemplates`, Django's backend whose
templates time their `render`), put in place with `override_settings(TEMPLATES=...)`, which
rebuilds the template engines.
"""

import statistics
import time

from django.conf import settings
from django.db import connection
from django.template.backends.django import DjangoTemplates, Template
from django.test import Client
from django.test.utils import override_settings

from positions.caching import bump_data_version

# Cold requests per page for the breakdown of their time.
BREAKDOWN_REQUESTS = 7


class Clock:
    """Seconds spent in SQL and in rendering since `reset`."""

    def __init__(self):
        self.sql = self.render = 0.0
        self.rendering = 0  # depth: a template rendered inside another is timed once

    def reset(self):
        self.sql = self.render = 0.0

    def execute(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.sql += time.perf_counter() - started

    def time_render(self, render, *args):
        if self.rendering:
            return render(*args)
        self.rendering += 1
        started, sql_before = time.perf_counter(), self.sql
        try:
            return render(*args)
        finally:
            self.rendering -= 1
            # Less the queries run while rendering (querysets evaluated by the template).
            self.render += time.perf_counter() - started - (self.sql - sql_before)


clock = Clock()


class TimedTemplate(Template):
    """The page's template as Django's backend renders it, includes and tags within, timed."""

    def render(self, context=None, request=None):
        return clock.time_render(super().render, context, request)


class TimedTemplates(DjangoTemplates):
    """Django's template backend, giving out `TimedTemplate`s."""

    def from_string(self, template_code):
        return TimedTemplate(self.engine.from_string(template_code), self)

    def get_template(self, template_name):
        return TimedTemplate(super().get_template(template_name).template, self)


def timed_templates():
    """The project's TEMPLATES with Django's backend replaced by `TimedTemplates`."""
    return [
        {**backend, "BACKEND": f"{__name__}.TimedTemplates", "NAME": "django"}
        if backend["BACKEND"] == "django.template.backends.django.DjangoTemplates"
        else backend
        for backend in settings.TEMPLATES
    ]


def measure_breakdown(pages, log):
    """Set each public page's `breakdown`: medians of the whole request, SQL and template."""
    log("Cold pages in process: SQL, templates, the rest")
    client = Client(HTTP_HOST="127.0.0.1")
    with (
        override_settings(TEMPLATES=timed_templates()),
        connection.execute_wrapper(clock.execute),
    ):
        for page in pages:
            if page.admin or page.streaming:
                continue
            client.get(page.path)  # Code and templates loaded, connection open.
            samples = []
            for _ in range(BREAKDOWN_REQUESTS):
                bump_data_version()
                clock.reset()
                started = time.perf_counter()
                client.get(page.path)
                samples.append((time.perf_counter() - started, clock.sql, clock.render))
            total, sql, render = (
                statistics.median(column) for column in zip(*samples, strict=True)
            )
            page.breakdown = {"total": total, "sql": sql, "render": render}
