"""URL map. Each app owns its own url module; the workspace pages all live under /w/<slug>/."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from portal.api import urlpatterns as api_urlpatterns
from portal.health import healthz
from scim import api_urls as scim_api
from workspaces.overview.views import home
from workspaces.people.closing_views import AccountCloseView

# A 403 names the capability that was missing and whom to ask; 404, 500, 400 and CSRF failures use
# templates/404.html, 500.html, 400.html and 403_csrf.html.
handler403 = "portal.error_views.permission_denied"

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("accounts/close/", AccountCloseView.as_view(), name="account_close"),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include((api_urlpatterns(), "api"))),
    path("accounts/two-factor/", include("twofactor.urls")),
    path("scim/v2/", include(scim_api)),
    path("invites/", include("workspaces.invites.urls")),
    # Only the OpenID Connect callback; allauth's /accounts/ pages are not routed anywhere.
    path("sso/", include("sso.urls")),
    path("p/", include("workspaces.public.urls")),
    path("w/<slug:workspace_slug>/roles/", include("permissions.role_urls")),
    path("w/<slug:workspace_slug>/settings/access-keys/", include("permissions.key_urls")),
    path("w/<slug:workspace_slug>/settings/scim/", include("scim.urls")),
    path("w/<slug:workspace_slug>/settings/webhooks/", include("webhooks.urls")),
    path("w/<slug:workspace_slug>/settings/join-domains/", include("workspaces.joining.urls_domains")),
    path("w/<slug:workspace_slug>/settings/sso/", include("sso.urls_settings")),
    path("w/<slug:workspace_slug>/settings/", include("workspace_settings.urls")),
    path("w/<slug:workspace_slug>/people/invite/bulk/", include("workspaces.invites.urls_bulk")),
    path("w/<slug:workspace_slug>/people/", include("workspaces.people.urls")),
    path("w/<slug:workspace_slug>/join-requests/", include("workspaces.joining.urls_requests")),
    path("w/<slug:workspace_slug>/teams/", include("workspaces.teams.urls")),
    path("w/<slug:workspace_slug>/sites/<slug:site_slug>/access/", include("workspaces.sites.urls_access")),
    path("w/<slug:workspace_slug>/explain/", include("workspaces.explain.urls")),
    path(
        "w/<slug:workspace_slug>/experiences/<int:experience_pk>/collaborators/",
        include("workspaces.experiences.urls_collaborators"),
    ),
    path("w/<slug:workspace_slug>/viewer-groups/", include("workspaces.viewer_groups.urls")),
    path("w/<slug:workspace_slug>/activity/", include("audit.urls")),
    path("w/<slug:workspace_slug>/billing/", include("billing.urls")),
    path("w/<slug:workspace_slug>/usage/", include("workspaces.usage.urls")),
    path("w/<slug:workspace_slug>/privacy/", include("privacy.urls")),
    path("", home, name="home"),
    path("", include("workspaces.overview.urls")),
]
