"""The invitation link's page, /invites/<token>/ (namespace "invites"); public (no sign-in needed)."""

from django.urls import path

from workspaces.invites import views as views_invites

app_name = "invites"

urlpatterns = [
    path("<str:token>/", views_invites.InviteAcceptView.as_view(), name="accept"),
]
