"""Two-factor authentication in the admin.

django-otp's own device admins show the authenticator secret (and a QR code of it) and the backup
codes, and let staff edit them. Here they are replaced by read-only lists that show neither: staff
see who has two-factor authentication, and which passkeys, and when each was last used. The one thing staff may do is
reset a person's two-factor authentication (lost phone and lost backup codes), through
``two_factor_reset``, which writes the audit event.

When the deployment says so (``ADMIN_REQUIRE_TWO_FACTOR``), the admin itself lets staff in only
once their session is verified with a code.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from kernel.admin import ReadOnlyAdmin

from . import session
from .models import WorkspaceSecurity
from .services import two_factor_reset

for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class DeviceAdmin(ReadOnlyAdmin):
    list_select_related = ("user",)
    search_fields = ("user__email", "user__full_name")
    list_filter = ("confirmed",)
    actions = ["reset_two_factor"]

    @admin.action(description="Reset two-factor authentication of the selected devices' owners", permissions=["view"])
    def reset_two_factor(self, request, queryset):
        people = {device.user for device in queryset.select_related("user")}
        reset = [person.email for person in people if two_factor_reset(actor=request.user, user=person)]
        messages.success(
            request,
            f"Two-factor authentication is off for {', '.join(sorted(reset)) or 'nobody'}; "
            "they sign in with their password and may set it up again.",
        )


@admin.register(TOTPDevice)
class AppDeviceAdmin(DeviceAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    # Never the key: it is the secret the person's app computes its codes from.
    fields = ("user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")


@admin.register(StaticDevice)
class BackupCodesAdmin(DeviceAdmin):
    list_display = ("user", "name", "confirmed", "codes_left", "created_at", "last_used_at")
    # Never the codes themselves: only how many are left.
    fields = ("user", "name", "confirmed", "codes_left", "created_at", "last_used_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(unused_codes=Count("token_set"))

    @admin.display(description="unused backup codes", ordering="unused_codes")
    def codes_left(self, device):
        return device.unused_codes


@admin.register(WebAuthnCredential)
class PasskeyAdmin(DeviceAdmin):
    list_display = ("user", "name", "created_at", "last_used_at")
    list_filter = ("discoverable",)
    # Never the credential id or the public key: staff only need to know who has which passkey.
    fields = ("user", "name", "confirmed", "discoverable", "created_at", "last_used_at")


@admin.register(WorkspaceSecurity)
class WorkspaceSecurityAdmin(ReadOnlyAdmin):
    """Changed by the workspace's people on the requirement page, through the service."""

    list_display = ("workspace", "two_factor_required", "changed_by", "changed_at")
    list_select_related = ("workspace", "changed_by")
    list_filter = ("two_factor_required",)
    search_fields = ("workspace__name", "workspace__slug")


def _admin_needs_verified_session(has_permission):
    def check(request) -> bool:
        if not has_permission(request):
            return False
        return not settings.ADMIN_REQUIRE_TWO_FACTOR or session.is_verified(request.user)

    return check


# The setting is read on every request (not at import) so that tests can switch it on.
admin.site.has_permission = _admin_needs_verified_session(admin.site.has_permission)
