"""Workspace settings in the admin: read-only lists for support.

Staff read the settings here; changes are made by the workspace's people on the settings pages,
through the services. The one write staff may make is removing an IP block rule, and it goes
through ``ip_rule_remove`` as the system, so it is audited like any other removal.
"""

from __future__ import annotations

from django.contrib import admin

from kernel.admin import ReadOnlyAdmin, ServiceAdmin

from .models import IntegrationSetting, IPBlockRule, UserAttributeSetting, WorkspacePolicy
from .services import ip_rule_remove


@admin.register(IPBlockRule)
class IPBlockRuleAdmin(ServiceAdmin):
    list_display = ("network", "workspace", "note", "created_by", "created_at")
    list_select_related = ("workspace", "created_by")
    search_fields = ("network", "note", "workspace__name", "workspace__slug")
    list_filter = (("workspace", admin.RelatedOnlyFieldListFilter),)
    readonly_fields = ("workspace", "network", "note", "created_by", "created_at")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        ip_rule_remove(actor=None, rule=obj)


@admin.register(IntegrationSetting)
class IntegrationSettingAdmin(ReadOnlyAdmin):
    list_display = ("key", "workspace", "enabled", "updated_at")
    list_select_related = ("workspace",)
    search_fields = ("key", "workspace__name", "workspace__slug")
    list_filter = ("key", "enabled")


@admin.register(UserAttributeSetting)
class UserAttributeSettingAdmin(ReadOnlyAdmin):
    list_display = ("key", "workspace", "enabled", "updated_at")
    list_select_related = ("workspace",)
    search_fields = ("key", "workspace__name", "workspace__slug")
    list_filter = ("key", "enabled")


@admin.register(WorkspacePolicy)
class WorkspacePolicyAdmin(ReadOnlyAdmin):
    list_display = (
        "workspace",
        "retention_days",
        "anonymize_ip",
        "respect_do_not_track",
        "require_cookie_consent",
        "mask_text_input",
        "updated_at",
    )
    list_select_related = ("workspace",)
    search_fields = ("workspace__name", "workspace__slug")
