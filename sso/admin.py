from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.contrib import admin

from kernel.admin import ReadOnlyAdmin

from .models import Connection, SSORequirement


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
    """Read-only: connections change on the workspace's single sign-on page. The secret is not shown."""

    list_display = ("name", "workspace", "issuer", "client_id", "default_role", "enabled", "updated_at")
    fields = ("workspace", "name", "kind", "issuer", "client_id", "domains", "default_role", "enabled", "updated_by")
    list_filter = ("enabled",)


@admin.register(SSORequirement)
class SSORequirementAdmin(ReadOnlyAdmin):
    """Read-only: the requirement changes on the workspace's single sign-on page, audited."""

    list_display = ("workspace", "required", "changed_by", "changed_at")
    fields = ("workspace", "required", "changed_by", "changed_at")
    list_filter = ("required",)


# allauth's own tables stay empty (the portal's adapter builds its apps from connections and ends
# every sign-in itself); their admin pages would be a second, unaudited place to configure sign-in.
for _model in (EmailAddress, SocialAccount, SocialApp, SocialToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
