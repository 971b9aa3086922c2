"""
Readers' pages for alerts: subscribe, confirm, unsubscribe. Never cached (they answer one
reader), never indexed, and none shows an address.

The subscribe form sits on cached public pages, which carry no CSRF token (a token would
make every page uncacheable). So a subscribe POST is accepted with Django's CSRF token (the
form on its own page, `/alerts/subscribe/?question=...`) or from a page of this site, as
the browser's `Origin` (or, without it, `Referer`) header says; a cross-site POST gets 403.
Unsubscribing takes no token: mail clients POST the one-click request (RFC 8058) with no
cookie or token, and the signed link is the authority.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import subscribing, tokens
from .forms import SubscribeForm, target_from_query, target_label
from .mailing import target_name
from .models import Frequency


def _page(request, template, context=None, status=200):
    return render(request, f"alerts/{template}", context or {}, status=status)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def subscribe(request):
    if request.method != "POST":
        kind, record = target_from_query(request.GET)
        if kind is None:  # what alerts are, and where to subscribe
            return _page(request, "subscribe.html", {"form": None, "record": None})
        if record is None:
            message = f"There is no such {kind} to follow."
            return _page(request, "problem.html", {"message": message}, status=404)
        form = SubscribeForm(
            initial={"follow": kind, "target": record.pk, "frequency": Frequency.IMMEDIATE}
        )
        return _page(request, "subscribe.html", _form_context(form, record))
    refused = _cross_site(request)
    if refused is not None:
        return refused
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        record = form.cleaned_data.get("record")
        if record is None:
            kind = request.POST.get("follow", "")
            kind, record = target_from_query({kind: request.POST.get("target", "")})
        return _page(request, "subscribe.html", _form_context(form, record), status=400)
    if subscribing.over_limit(request):
        return _page(
            request,
            "problem.html",
            {"message": "Too many subscription requests from your address: try again in an hour."},
            status=429,
        )
    data = form.cleaned_data
    subscribing.request_subscription(
        data["email"], data["follow"], data["record"], data["frequency"]
    )
    return _page(request, "check_inbox.html", {"target": target_label(data["record"])})


def _origin_of(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


def _cross_site(request):
    """None for a POST from this site (its Origin or Referer) or with a valid CSRF token."""
    sent = request.META.get("HTTP_ORIGIN") or request.META.get("HTTP_REFERER") or ""
    ours = {_origin_of(request.build_absolute_uri("/")), _origin_of(settings.SITE_URL)}
    ours |= {_origin_of(origin) for origin in settings.CSRF_TRUSTED_ORIGINS}
    if sent and sent != "null" and _origin_of(sent) in ours:
        return None
    if CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {}) is None:
        return None
    return _page(
        request,
        "problem.html",
        {
            "message": "This request did not come from a page of this site. Subscribe from "
            "the form on a question, an actor or a condition page."
        },
        status=403,
    )


def _form_context(form, record):
    return {
        "form": form,
        "record": record,
        "label": target_label(record) if record is not None else None,
    }


@never_cache
@require_http_methods(["GET", "HEAD"])
def confirm(request, token):
    try:
        subscription = tokens.subscription_to_confirm(token)
    except tokens.BadLink as problem:
        return _page(request, "problem.html", {"message": str(problem)}, status=400)
    subscribing.confirm(subscription)
    return _page(
        request,
        "confirmed.html",
        {
            "target": target_name(subscription),
            "target_url": subscription.target.get_absolute_url(),
            "frequency": subscription.get_frequency_display().lower(),
            "unsubscribe_url": tokens.unsubscribe_url(subscription),
        },
    )


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    """Following the link unsubscribes (one click), and so does the mail client's POST."""
    try:
        subscription = tokens.subscription_to_cancel(token)
    except tokens.BadLink as problem:
        return _page(request, "problem.html", {"message": str(problem)}, status=400)
    target = None
    if subscription is not None:
        target = target_name(subscription)
        if request.method != "HEAD":
            subscription.delete()
    return _page(request, "unsubscribed.html", {"target": target})
