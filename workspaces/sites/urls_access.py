"""The site access page, mounted at /w/<workspace_slug>/sites/<site_slug>/access/ (namespace
"site_access")."""

from django.urls import path

from workspaces.sites import views_access as views

app_name = "site_access"

GRANT = "grants/<int:grant_pk>/"

urlpatterns = [
    path("", views.SiteAccessView.as_view(), name="index"),
    path("grants/", views.SiteGrantSetView.as_view(), name="grant_set"),
    path(GRANT, views.SiteGrantEditView.as_view(), name="grant_edit"),
    path(GRANT + "revoke/", views.SiteGrantRevokeView.as_view(), name="grant_revoke"),
    path("owner/", views.SiteOwnerSetView.as_view(), name="owner"),
]
