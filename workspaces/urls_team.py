"""The team page and its controls, under /w/<workspace_slug>/team/ (namespace "team").

Every control is a POST to its own URL; ids in the URL are looked up inside the URL's workspace.
"""

from django.urls import path

from . import views_team

app_name = "team"

urlpatterns = [
    path("", views_team.TeamView.as_view(), name="index"),
    path("members/<int:member_pk>/role/", views_team.ChangeRoleView.as_view(), name="change_role"),
    path("members/<int:member_pk>/remove/", views_team.RemoveView.as_view(), name="remove"),
    path("leave/", views_team.LeaveView.as_view(), name="leave"),
    path("transfer-ownership/", views_team.TransferView.as_view(), name="transfer"),
    path("invites/", views_team.InviteCreateView.as_view(), name="invite"),
    path("invites/<int:invite_pk>/resend/", views_team.InviteResendView.as_view(), name="invite_resend"),
    path("invites/<int:invite_pk>/revoke/", views_team.InviteRevokeView.as_view(), name="invite_revoke"),
]
