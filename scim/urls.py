"""SCIM token pages, mounted at /w/<workspace_slug>/settings/scim/."""

from django.urls import path

from . import views

app_name = "scim_tokens"
urlpatterns = [
    path("", views.ScimTokenListView.as_view(), name="list"),
    path("new/", views.ScimTokenCreateView.as_view(), name="create"),
    path("<int:pk>/role/", views.ScimTokenRoleView.as_view(), name="role"),
    path("<int:pk>/revoke/", views.ScimTokenRevokeView.as_view(), name="revoke"),
]
