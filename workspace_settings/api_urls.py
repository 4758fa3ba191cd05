"""The settings the platform's services read with an access key; mounted at /api/v1/ by ``portal.urls``."""

from django.urls import path

from . import api

urlpatterns = [
    path("settings/ip-blocklist", api.ip_blocklist, name="ip_blocklist"),
    path("settings/sites", api.sites, name="settings_sites"),
    path("settings/policies", api.policies, name="settings_policies"),
    path("settings/integrations", api.integrations, name="settings_integrations"),
    path("settings/user-attributes", api.user_attributes, name="settings_user_attributes"),
]
