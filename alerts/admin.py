"""
Alerts in the admin. Staff see subscriptions with masked addresses (enough to answer "am I
subscribed?" when a reader writes in: search by the exact address), and may delete them;
nobody adds or edits one here, that is the reader's double opt-in. Integrators' webhooks are
registered here, and each delivery's log (status code, attempts, next try, last error).
"""

from django.contrib import admin, messages
from django.db.models import Count, Q

from . import delivery
from .models import DeliveryStatus, Event, Subscription, Webhook, WebhookDelivery, mask_email


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["masked_email", "target", "frequency", "confirmed", "created_at"]
    list_filter = ["frequency", ("confirmed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["question__topic", "actor", "condition"]
    search_fields = ["=email"]  # the whole address only: no browsing by fragment
    search_help_text = "The reader's whole email address."
    fields = ["masked_email", "target", "frequency", "created_at", "confirmed_at"]
    readonly_fields = fields

    @admin.display(description="email")
    def masked_email(self, obj):
        return mask_email(obj.email)

    @admin.display(boolean=True, ordering="confirmed_at")
    def confirmed(self, obj):
        return obj.confirmed_at is not None

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().lower()
        if not term:
            return queryset, False
        return queryset.filter(email=term), False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "follows", "active", "pending", "failed"]
    list_filter = ["active", "follows"]
    search_fields = ["name", "url"]
    autocomplete_fields = ["topic", "question"]
    fields = ["name", "url", "active", "follows", "topic", "question", "secret"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                pending_count=Count("deliveries", filter=Q(deliveries__status="pending")),
                failed_count=Count("deliveries", filter=Q(deliveries__status="failed")),
            )
        )

    @admin.display(description="pending deliveries", ordering="pending_count")
    def pending(self, obj):
        return obj.pending_count

    @admin.display(description="failed deliveries", ordering="failed_count")
    def failed(self, obj):
        return obj.failed_count


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "webhook",
        "status",
        "status_code",
        "attempts",
        "next_attempt_at",
        "short_error",
    ]
    list_filter = ["status", "webhook"]
    list_select_related = ["webhook"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "webhook",
        "batch",
        "status",
        "status_code",
        "attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "created_at",
        "updated_at",
        "body",
    ]
    fields = readonly_fields
    actions = ["retry"]

    @admin.display(description="last error")
    def short_error(self, obj):
        return obj.last_error[:80]

    @admin.action(description="Retry the selected deliveries now", permissions=["retry"])
    def retry(self, request, queryset):
        count = delivery.retry_now(queryset.exclude(status=DeliveryStatus.DELIVERED))
        self.message_user(request, f"{count} deliveries queued again.", messages.SUCCESS)

    def has_retry_permission(self, request):
        return request.user.has_perm("alerts.change_webhook")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The outbox, for staff checking why an alert went (or did not)."""

    list_display = ["created_at", "kind", "question", "actor", "condition", "dispatched_at"]
    list_filter = ["kind"]
    list_select_related = ["question", "actor", "condition"]
    readonly_fields = [
        "batch",
        "kind",
        "question",
        "actor",
        "statement",
        "condition",
        "data",
        "created_at",
        "dispatched_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
