"""The page a locked-out sign-in gets (django-axes calls `lockout_response`)."""

import math

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.shortcuts import render
from django.utils import timezone


def lockout_ends(request, credentials):
    """When the lockout ends: the cool-off counts from the last failure axes recorded (the
    attempts refused during a lockout are not recorded, so they do not extend it)."""
    cool_off = settings.AXES_COOLOFF_TIME
    username = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
    last_failure = (
        AccessAttempt.objects.filter(
            username=username, ip_address=getattr(request, "axes_ip_address", None)
        )
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )
    return (last_failure or timezone.now()) + cool_off


def lockout_response(request, original_response=None, credentials=None):
    """Say plainly what happened, until when, and what to do; 429 like axes' default."""
    ends = lockout_ends(request, credentials)
    context = {
        **admin.site.each_context(request),
        "title": "Sign-in paused",
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cool_off_minutes": math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60),
        "retry_after": ends,
    }
    response = render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)
    response["Retry-After"] = str(max(0, math.ceil((ends - timezone.now()).total_seconds())))
    return response
