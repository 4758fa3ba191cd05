"""Join domains and join requests in the admin: read-only.

Adding, verifying and suspending domains and deciding requests have their own rules (DNS
verification, one verified owner per domain) that the workspace's settings pages and
``manage.py verify_domains`` apply; staff look here and send customers there.
"""

from __future__ import annotations

from django.contrib import admin

from kernel.admin import ReadOnlyAdmin
from workspaces.models import JoinDomain, JoinRequest


@admin.register(JoinDomain)
class JoinDomainAdmin(ReadOnlyAdmin):
    list_display = ("domain", "workspace", "role", "mode", "include_subdomains", "verified_at", "suspended_at")
    list_select_related = ("workspace", "role")
    search_fields = ("domain", "workspace__name", "workspace__slug")
    list_filter = ("mode", "verification_method", ("workspace", admin.RelatedOnlyFieldListFilter), "verified_at")
    # The DNS token is shown to the workspace's admins on their settings page; not needed here.
    exclude = ("verification_token",)


@admin.register(JoinRequest)
class JoinRequestAdmin(ReadOnlyAdmin):
    list_display = ("user", "workspace", "domain", "status", "created_at", "decided_by", "decided_at")
    list_select_related = ("user", "workspace", "domain", "decided_by")
    search_fields = ("user__email", "workspace__name", "domain__domain")
    list_filter = ("status", ("workspace", admin.RelatedOnlyFieldListFilter), "created_at")
