"""Shared pieces of the alerts tests: tasks at once, links out of emails, a subscriber."""

import re

import pytest
from django.core import mail

from alerts.models import Subscription

SUBSCRIBE_URL = "/alerts/subscribe/"
ORIGIN = "http://testserver"
LINK = re.compile(r"http://testserver(/alerts/(?:confirm|unsubscribe)/[^\s>]+/)")


@pytest.fixture
def tasks_at_once(settings):
    """django-tasks runs each task as it is queued; links point at the test client's host."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.SITE_URL = "http://testserver"


def links_in(message):
    return LINK.findall(message.body)


def subscribe(client, on_commit, record, kind, email="reader@example.org", frequency="immediate"):
    """Post the form as a reader would; returns the response."""
    with on_commit(execute=True):
        return client.post(
            SUBSCRIBE_URL,
            {"email": email, "frequency": frequency, "follow": kind, "target": record.pk},
            headers={"Origin": ORIGIN},  # as a browser posts the form from a page of the site
        )


def subscribed_and_confirmed(client, on_commit, record, kind, **kwargs):
    """A confirmed subscription made through the pages; the outbox emptied afterwards."""
    before = len(mail.outbox)
    assert subscribe(client, on_commit, record, kind, **kwargs).status_code == 200
    (confirmation,) = mail.outbox[before:]
    (confirm_path,) = links_in(confirmation)
    assert client.get(confirm_path).status_code == 200
    mail.outbox.clear()
    email = kwargs.get("email", "reader@example.org")
    return Subscription.objects.get(confirmed_at__isnull=False, email=email)
