"""Inviting from a CSV file in the browser, mounted at /w/<workspace_slug>/people/invite/bulk/."""

from django.urls import path

from workspaces.invites import views_bulk

app_name = "invite_bulk"
urlpatterns = [
    path("", views_bulk.BulkInviteView.as_view(), name="upload"),
]
