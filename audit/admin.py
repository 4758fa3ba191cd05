"""The audit log in the admin: read-only for everyone, superusers included (docs/RULES.md 4.8: nobody
edits or deletes it). The view page still shows each event."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "workspace_name", "actor_shown", "target_type", "target_repr", "ip_address")
    list_filter = ("action", ("workspace", admin.RelatedOnlyFieldListFilter), "created_at", "target_type")
    search_fields = ("actor_email", "target_repr", "target_id", "action", "workspace_name")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "action",
        "workspace_name",
        "workspace_id",
        "actor_shown",
        "target_type",
        "target_id",
        "target_repr",
        "before_shown",
        "after_shown",
        "ip_address",
    )
    readonly_fields = fields
    show_full_result_count = False  # a big log: skip the second COUNT(*) on filtered lists

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="actor", ordering="actor_email")
    def actor_shown(self, event):
        return event.actor_email or "system"

    @admin.display(description="before")
    def before_shown(self, event):
        return _json(event.before)

    @admin.display(description="after")
    def after_shown(self, event):
        return _json(event.after)


def _json(value):
    if value is None:
        return "—"
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))
