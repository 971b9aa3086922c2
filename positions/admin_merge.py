"""
Merging duplicate actors from the admin: Publishers only (`editorial.may_merge_actors`).

Two ways in: the change list's action on two selected actors, which asks which one to keep,
and the "Merge into another actor" link of an actor's page. Both lead to the merge page of
the duplicate (`<id>/merge/?keep=<id>`), which shows what will move, combine or be dropped
(`merging.plan_merge`) and merges on confirmation (`merging.merge_actors`). The work is all
in `positions/merging.py`; this module only asks and shows.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode

from . import editorial, merging
from .exchange.matching import likely_duplicates_of
from .models import Actor

# Rows the merge page lists of each kind; the rest are counted.
SHOWN = 20


class ActorAutocomplete(AutocompleteSelect):
    def optgroups(self, name, value, attr=None):
        # A chosen id that is no number (a junk address) shows as no choice, not a 500.
        return super().optgroups(name, [v for v in value if str(v).isdigit()], attr)


class MergeForm(forms.Form):
    keep = forms.ModelChoiceField(
        queryset=Actor.objects.all(),
        label="Actor to keep",
        help_text="The actor that stays: everything of this one moves to it, and this one's "
        "address redirects to its page.",
        error_messages={"invalid_choice": "Choose an existing actor to keep."},
    )

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        # The admin's own search of actors (names and aliases without accents, identifiers).
        keep = self.fields["keep"]
        keep.widget = ActorAutocomplete(Actor._meta.get_field("parent"), admin_site)
        keep.widget.choices = keep.choices


class ActorMergeMixin:
    """The actor admin's merge action, link and page."""

    def has_merge_permission(self, request):
        return editorial.may_merge_actors(request.user)

    def get_urls(self):
        merge = path(
            "<path:object_id>/merge/",
            self.admin_site.admin_view(self.merge_view),
            name="positions_actor_merge",
        )
        return [merge, *super().get_urls()]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_merge"] = bool(change and obj and self.has_merge_permission(request))
        if change and obj is not None:
            # The import's duplicate check, on the saved actor: each with a merge link.
            context["likely_duplicates"] = [
                {"actor": other, "merge_url": merge_url(obj, other)}
                for other in likely_duplicates_of(obj)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(permissions=["merge"], description="Merge the two selected actors…")
    def merge_selected(self, request, queryset):
        if not self.has_merge_permission(request):
            raise PermissionDenied(editorial.ONLY_PUBLISHERS_MERGE)
        actors = list(queryset.order_by("pk")[:3])
        if len(actors) != 2:
            self.message_user(
                request,
                "Select exactly two actors to merge: the duplicate and the actor to keep.",
                messages.WARNING,
            )
            return None
        first, second = actors
        choices = [
            {"keep": first, "duplicate": second, "url": merge_url(second, first)},
            {"keep": second, "duplicate": first, "url": merge_url(first, second)},
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge actors: which one to keep?",
            "opts": self.model._meta,
            "choices": choices,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/positions/actor/merge_choose.html", context)

    def merge_view(self, request, object_id):
        self.check_ids(object_id)
        duplicate = self.get_object(request, unquote(object_id))
        if duplicate is None:
            raise Http404("No such actor.")
        if not self.has_merge_permission(request):
            raise PermissionDenied(editorial.ONLY_PUBLISHERS_MERGE)
        data = request.POST if request.method == "POST" else request.GET
        form = MergeForm(data if "keep" in data else None, admin_site=self.admin_site)
        plan = None
        if form.is_bound and form.is_valid():
            keep = form.cleaned_data["keep"]
            if request.method == "POST":
                try:
                    plan = merging.merge_actors(keep, duplicate, request.user)
                except merging.MergeRefused as refused:
                    self.message_user(request, str(refused), messages.ERROR)
                else:
                    self.log_change(request, plan.keep, plan.change_reason + ".")
                    self.message_user(request, done_message(plan), messages.SUCCESS)
                    return HttpResponseRedirect(
                        reverse("admin:positions_actor_change", args=[plan.keep.pk])
                    )
            plan = merging.plan_merge(keep, duplicate)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Merge “{duplicate}” into another actor",
            "opts": self.model._meta,
            "original": duplicate,
            "duplicate": duplicate,
            "form": form,
            "media": self.media + form.media,
            "plan": plan,
            "sections": sections(plan) if plan and not plan.error else [],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/positions/actor/merge.html", context)


def merge_url(duplicate, keep):
    url = reverse("admin:positions_actor_merge", args=[duplicate.pk])
    return f"{url}?{urlencode({'keep': keep.pk})}"


def sections(plan):
    """What the merge page lists: (heading, count, the first rows' labels, how many more)."""
    found = [
        ("Signatures that move", [signature_label(s) for s in plan.signatures_moved]),
        (
            "Statements both signed: one signature remains (the lead if either was)",
            [signature_label(dup) for dup, _kept in plan.signatures_combined],
        ),
        ("Identifiers that move", plan.identifiers_moved),
        ("Identifiers both hold: kept once", plan.identifiers_combined),
        ("Memberships that move (held, of its members, on behalf of)", plan.memberships_moved),
        ("Memberships the kept actor holds already: kept once", plan.memberships_combined),
        ("Memberships of one actor in the other: removed", plan.memberships_dropped),
        *((f"{label.capitalize()} that move", rows) for label, rows in plan.others.items()),
    ]
    return [
        (heading, len(rows), [str(row) for row in rows[:SHOWN]], max(len(rows) - SHOWN, 0))
        for heading, rows in found
        if rows
    ]


def signature_label(signature):
    statement = signature.statement
    lead = " (lead)" if signature.is_lead else ""
    return f"{statement} — {statement.question}{lead} [{statement.get_status_display().lower()}]"


def done_message(plan):
    moved = plan.moved_count
    combined = len(plan.signatures_combined)
    message = (
        f"“{plan.duplicate.name}” was merged into “{plan.keep.name}”: {moved} record"
        f"{'s' if moved != 1 else ''} moved"
    )
    if combined:
        message += f", {combined} double signature{'s' if combined != 1 else ''} combined"
    return message + f"; its address /actors/{plan.duplicate.slug}/ now redirects here."
