"""Teams pages, mounted at /w/<workspace_slug>/teams/ (namespace "teams")."""

from django.urls import path

from workspaces.teams import views

app_name = "teams"

TEAM = "<int:pk>/"
GRANT = TEAM + "grants/<int:grant_pk>/"

urlpatterns = [
    path("", views.TeamListView.as_view(), name="index"),
    path("new/", views.TeamCreateView.as_view(), name="create"),
    path(TEAM, views.TeamDetailView.as_view(), name="detail"),
    path(TEAM + "edit/", views.TeamUpdateView.as_view(), name="edit"),
    path(TEAM + "delete/", views.TeamDeleteView.as_view(), name="delete"),
    path(TEAM + "members/", views.TeamMemberAddView.as_view(), name="member_add"),
    path(TEAM + "members/<int:membership_pk>/remove/", views.TeamMemberRemoveView.as_view(), name="member_remove"),
    path(TEAM + "grants/", views.TeamGrantSetView.as_view(), name="grant_set"),
    path(GRANT, views.TeamGrantEditView.as_view(), name="grant_edit"),
    path(GRANT + "revoke/", views.TeamGrantRevokeView.as_view(), name="grant_revoke"),
]
