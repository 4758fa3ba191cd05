from django.contrib import admin

from kernel.admin import ReadOnlyAdmin

from .models import Connection


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
    """Read-only: connections change on the workspace's single sign-on page. The secret is not shown."""

    list_display = ("name", "workspace", "issuer", "client_id", "default_role", "enabled", "updated_at")
    fields = ("workspace", "name", "kind", "issuer", "client_id", "domains", "default_role", "enabled", "updated_by")
    list_filter = ("enabled",)
