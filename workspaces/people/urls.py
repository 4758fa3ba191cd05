"""The people page and its controls, under /w/<workspace_slug>/people/ (namespace "people").

Every control is a POST to its own URL; ids in the URL are looked up inside the URL's workspace.
"""

from django.urls import path

from workspaces.people import bulk_views, export_views, views

app_name = "people"

urlpatterns = [
    path("", views.PeopleView.as_view(), name="index"),
    path("export.csv", export_views.MembersExportView.as_view(), {"format": "csv"}, name="export_csv"),
    path("export.json", export_views.MembersExportView.as_view(), {"format": "json"}, name="export_json"),
    path("members/<int:member_pk>/role/", views.ChangeRoleView.as_view(), name="change_role"),
    path("members/<int:member_pk>/remove/", views.RemoveView.as_view(), name="remove"),
    path("bulk/members/", bulk_views.BulkMembersView.as_view(), name="bulk_members"),
    path("bulk/invites/", bulk_views.BulkInvitesView.as_view(), name="bulk_invites"),
    path("bulk/report/", bulk_views.BulkReportView.as_view(), name="bulk_report"),
    path("leave/", views.LeaveView.as_view(), name="leave"),
    path("transfer-ownership/", views.TransferView.as_view(), name="transfer"),
    path("invites/", views.InviteCreateView.as_view(), name="invite"),
    path("invites/<int:invite_pk>/resend/", views.InviteResendView.as_view(), name="invite_resend"),
    path("invites/<int:invite_pk>/revoke/", views.InviteRevokeView.as_view(), name="invite_revoke"),
]
