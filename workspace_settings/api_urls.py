"""The settings the platform's services read with an access key; mounted at /api/v1/ by ``portal.urls``."""

from django.urls import path

from .api import ip_blocklist, sites

urlpatterns = [
    path("settings/ip-blocklist", ip_blocklist, name="ip_blocklist"),
    path("settings/sites", sites, name="settings_sites"),
]
