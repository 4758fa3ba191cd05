from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("permissions.api_urls")),
    path("", include("workspaces.urls")),
]
