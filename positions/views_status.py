"""
The status table of a topic, `/topics/<slug>/status/`, and its CSV and JSON downloads: one
row per participant, from `acts.py`. Two queries whatever the number of states and acts:
the topic, then its published acts (with actors and sources).
"""

import datetime

from django import forms
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from . import acts, maps
from .caching import cached_page
from .exports import download, public_url
from .filters import FastSelect
from .forms import as_of_error
from .models import Topic
from .views import base_query_string, form_errors, valid_data

SORT_CHOICES = [
    (f"{prefix}{key}", f"{label}{suffix}")
    for key, label in acts.SORTS.items()
    for prefix, suffix in (("", ""), ("-", ", descending"))
]


class StatusForm(forms.Form):
    act = forms.ChoiceField(
        label="Show",
        choices=[("", "Every participant"), *[(k, v[0]) for k, v in acts.ACT_FILTERS.items()]],
        required=False,
        widget=FastSelect,
    )
    sort = forms.ChoiceField(label="Sort by", choices=SORT_CHOICES, required=False)
    as_of = forms.DateField(
        label="As of",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The acts dated on or before the end of that day.",
    )

    def clean_as_of(self):
        day = self.cleaned_data["as_of"]
        error = as_of_error(day) if day else None
        if error:
            raise forms.ValidationError(f"{error} Showing today instead.")
        return day


@cached_page
def topic_status(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    form = StatusForm(request.GET)
    data = valid_data(form)
    today = timezone.localdate()
    as_of = data.get("as_of") or today
    # Without a date, every published act counts, as every statement counts on a board.
    participants = acts.participants_of(acts.published_acts(topic, data.get("as_of")))
    rows = acts.sorted_rows(
        acts.filtered(participants, data.get("act")), data.get("sort") or "name"
    )
    return render(
        request,
        "positions/status.html",
        {
            "topic": topic,
            "form": form,
            "notices": form_errors(form),
            "as_of": as_of,
            "is_past": as_of != today,
            "rows": rows,
            "participant_count": len(participants),
            "totals": acts.totals(participants),
            "entry_into_force": acts.entry_into_force(topic, participants, as_of),
            "filtered": bool(data.get("act")),
            "sort": data.get("sort") or "name",
            "sort_links": _sort_links(request),
            "query_string": base_query_string(request),
            "map": maps.status_map(participants),
        },
    )


def _sort_links(request):
    """The column headers' links: each sorts by its column, again for the other direction."""
    current = request.GET.get("sort", "name")
    links = {}
    for key in acts.SORTS:
        params = request.GET.copy()
        params["sort"] = f"-{key}" if current == key else key
        links[key] = params.urlencode()
    return links


STATUS_COLUMNS = (
    "as_of",
    "topic",
    "actor",
    "actor_name",
    "country",
    "status",
    "signature_date",
    "consent_kind",
    "consent_date",
    "entry_into_force_date",
    "denunciation_date",
    "declarations",
    "reservations",
    "withdrawn_reservations",
    "objections",
    "actor_url",
)


def _act_json(act):
    return {
        "kind": act.kind,
        "date": act.date.isoformat(),
        "text": act.text,
        "place": act.place,
        "depositary_reference": act.depositary_reference,
        "source": act.source.url if act.source else "",
    }


def status_row(topic, as_of, row, fmt):
    """One participant in the download's shape (see docs/import-format.md)."""

    def day(act):
        return act.date.isoformat() if act else ""

    def texts(items):
        if fmt == "json":
            return [_act_json(act) for act in items]
        return "\n".join(f"{act.date.isoformat()}: {act.text}" for act in items)

    return {
        "as_of": as_of.isoformat(),
        "topic": topic.slug,
        "actor": row.actor_slug,
        "actor_name": row.actor_name,
        "country": row.country,
        "status": row.status,
        "signature_date": day(row.signature),
        "consent_kind": row.consent.kind if row.consent else "",
        "consent_date": day(row.consent),
        "entry_into_force_date": day(row.entry_into_force),
        "denunciation_date": day(row.denunciation),
        "declarations": texts(row.declarations),
        "reservations": texts(row.reservations),
        "withdrawn_reservations": texts(row.withdrawn_reservations),
        "objections": texts(row.objections),
        "actor_url": public_url(reverse("positions:actor", args=[row.actor_slug])),
    }


@require_safe
def topic_status_download(request, slug, fmt):
    topic = get_object_or_404(Topic, slug=slug)
    value = request.GET.get("as_of", "")
    try:
        as_of = datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return HttpResponseBadRequest(
            "as_of must be a date written YYYY-MM-DD.", content_type="text/plain"
        )
    error = as_of_error(as_of) if as_of else None
    if error:
        return HttpResponseBadRequest(error, content_type="text/plain")
    as_of = as_of or timezone.localdate()
    participants = acts.participants_of(acts.published_acts(topic, as_of))
    rows = (status_row(topic, as_of, row, fmt) for row in participants)
    return download(f"{slug}-status-{as_of.isoformat()}", fmt, STATUS_COLUMNS, rows)
