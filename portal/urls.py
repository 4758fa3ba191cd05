"""URL map. Each app owns its own url module; the workspace pages all live under /w/<slug>/."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from workspaces.views import home

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("permissions.api_urls")),
    path("w/<slug:workspace_slug>/roles/", include("permissions.role_urls")),
    path("w/<slug:workspace_slug>/settings/access-keys/", include("permissions.key_urls")),
    path("", home, name="home"),
    path("", include("workspaces.urls")),
]
