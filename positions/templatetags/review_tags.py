"""The admin index's 'waiting for review' panel."""

from django import template
from django.urls import reverse

from positions import editorial
from positions.models import Statement, StatementStatus

register = template.Library()


@register.inclusion_tag("admin/positions/review_panel.html", takes_context=True)
def review_panel(context):
    user = context["request"].user
    if not user.has_perm("positions.view_statement"):
        return {"show": False}
    return {
        "show": True,
        "drafts": Statement.objects.drafts().count(),
        "drafts_url": reverse("admin:positions_statement_changelist")
        + f"?status__exact={StatementStatus.DRAFT}",
        "can_publish": editorial.can_publish(user),
    }
