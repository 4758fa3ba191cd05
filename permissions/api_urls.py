"""The check API, mounted at /api/v1/ (docs/RULES.md 5.1)."""

from django.urls import path

from workspace_settings.api import ip_blocklist

from . import api

app_name = "api"
urlpatterns = [
    path("check", api.check, name="check"),
    path("members/<str:email>/permissions", api.member_permissions_view, name="member_permissions"),
    path("settings/ip-blocklist", ip_blocklist, name="ip_blocklist"),
]
