"""
The status table of a topic, `/topics/<slug>/status/`, and its CSV and JSON downloads: one
row per participant, from `acts.py`, filterable by act, by region (`regions.py`) and by bloc
(memberships on the day shown). Three queries whatever the number of states and acts: the
topic, the blocs for the filter, then its published acts (with actors and sources); a fourth,
the bloc's members on the day, when the table is filtered by a bloc.
"""

import datetime

from django import forms
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from . import acts, groups, maps, regions
from .caching import cached_page
from .exports import download, public_url
from .filters import FastDateInput, FastSelect
from .forms import as_of_error
from .models import Actor, Membership, Topic
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
    region = forms.ChoiceField(
        label="Region",
        required=False,
        widget=FastSelect,
        help_text="Participants whose country lies there.",
    )
    bloc = forms.ChoiceField(
        label="Bloc or coalition",
        required=False,
        widget=FastSelect,
        help_text="Participants that are members of it on the day shown.",
    )
    sort = forms.ChoiceField(
        label="Sort by", choices=SORT_CHOICES, required=False, widget=FastSelect
    )
    as_of = forms.DateField(
        label="As of",
        required=False,
        widget=FastDateInput,
        help_text="The acts dated on or before the end of that day.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", "Every region"), *regions.region_choices()]
        self.fields["bloc"].choices = [("", "Any bloc"), *bloc_choices()]

    def clean_as_of(self):
        day = self.cleaned_data["as_of"]
        error = as_of_error(day) if day else None
        if error:
            raise forms.ValidationError(f"{error} Showing today instead.")
        return day


def bloc_choices():
    """The blocs and coalitions (`groups.BLOC_KINDS`) that have members on record: one query."""
    blocs = Actor.objects.public().filter(
        kind__in=groups.BLOC_KINDS, pk__in=Membership.objects.values("organization_id")
    )
    return list(blocs.order_by("name", "pk").values_list("slug", "name"))


def in_region_and_bloc(participants, data, day):
    """
    The participants in the region and the bloc asked for (on `day`, by their memberships):
    one query for the bloc's members when a bloc is asked for, none otherwise.
    """
    rows = list(participants)
    if data.get("region"):
        rows = [row for row in rows if regions.in_region(row.country, data["region"])]
    if data.get("bloc"):
        members = set(
            Membership.objects.on(day)
            .filter(organization__slug=data["bloc"])
            .values_list("member_id", flat=True)
        )
        rows = [row for row in rows if row.actor_id in members]
    return rows


@cached_page
def topic_status(request, slug):
    topic = get_object_or_404(Topic, slug=slug)
    form = StatusForm(request.GET)
    data = valid_data(form)
    today = timezone.localdate()
    as_of = data.get("as_of") or today
    # Without a date, every published act counts, as every statement counts on a board.
    # The table shows no act's source (its download does).
    published = acts.published_acts(topic, data.get("as_of"), with_sources=False)
    participants = acts.participants_of(published)
    shown = in_region_and_bloc(acts.filtered(participants, data.get("act")), data, as_of)
    rows = acts.sorted_rows(shown, data.get("sort") or "name")
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
            "filtered": bool(data.get("act") or data.get("region") or data.get("bloc")),
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
