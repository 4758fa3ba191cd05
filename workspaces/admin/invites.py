"""Invites in the admin: a list with status and expiry, and Resend / Revoke through the invite
services. Never added or edited here: the token exists only in the e-mail, its hash stays hidden."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from kernel.admin import AUDIT_NOTE, ReadOnlyAdmin, ReadOnlyInline, ServiceAdmin, apply_all
from workspaces.invites.services import invite_resend, invite_revoke
from workspaces.models import Invite, InviteSend, InviteSiteGrant


class ExpiryFilter(admin.SimpleListFilter):
    title = "expiry"
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return (("live", "Pending, not expired"), ("expired", "Pending, expired"))

    def queryset(self, request, queryset):
        pending = Q(status=Invite.Status.PENDING)
        if self.value() == "live":
            return queryset.filter(pending, expires_at__gt=timezone.now())
        if self.value() == "expired":
            return queryset.filter(pending, expires_at__lte=timezone.now())
        return queryset


class InviteSiteGrantInline(ReadOnlyInline):
    model = InviteSiteGrant
    fields = ("site", "role")
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("site", "role")


@admin.register(Invite)
class InviteAdmin(ServiceAdmin):
    list_display = ("email", "workspace", "role", "state", "expires_at", "sent_at", "send_count", "invited_by")
    list_select_related = ("workspace", "role", "invited_by")
    search_fields = ("email", "workspace__name", "workspace__slug", "invited_by__email")
    list_filter = ("status", ExpiryFilter, ("workspace", admin.RelatedOnlyFieldListFilter), "created_at")
    # token_hash is left out on purpose: it is a credential's fingerprint and helps no one here.
    fields = (
        "email",
        "workspace",
        "role",
        "team_names",
        "status",
        "invited_by",
        "created_at",
        "sent_at",
        "send_count",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    )
    inlines = (InviteSiteGrantInline,)
    actions = ("resend", "revoke")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit log and the rate limits keep counting it

    @admin.display(description="status")
    def state(self, invite):
        if invite.status == Invite.Status.PENDING and invite.is_expired:
            return "Expired"
        return invite.get_status_display()

    @admin.display(description="teams")
    def team_names(self, invite):
        return ", ".join(team.name for team in invite.teams.all()) or "—"

    @admin.action(description="Resend selected invites (new link, new expiry)")
    def resend(self, request, queryset):
        done = apply_all(queryset.select_related("workspace"), lambda invite: invite_resend(actor=None, invite=invite))
        for invite in queryset:
            self.log_action(request, invite, "Resent the invite.")
        self.message_user(request, f"Resent {done} invite(s); the old links no longer work. {AUDIT_NOTE}")

    @admin.action(description="Revoke selected invites")
    def revoke(self, request, queryset):
        done = apply_all(queryset.select_related("workspace"), lambda invite: invite_revoke(actor=None, invite=invite))
        for invite in queryset:
            self.log_action(request, invite, "Revoked the invite.")
        self.message_user(request, f"Revoked {done} invite(s). {AUDIT_NOTE}")


@admin.register(InviteSend)
class InviteSendAdmin(ReadOnlyAdmin):
    """One row per invitation e-mail sent; the rate limits count these."""

    list_display = ("email", "workspace", "inviter", "sent_at")
    list_select_related = ("workspace", "inviter")
    search_fields = ("email", "workspace__name", "inviter__email")
    list_filter = (("workspace", admin.RelatedOnlyFieldListFilter), "sent_at")
    date_hierarchy = "sent_at"
