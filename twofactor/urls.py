"""Two-factor pages, mounted at /accounts/two-factor/ (namespace "two_factor")."""

from django.urls import path

from . import views

app_name = "two_factor"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("setup/", views.SetupView.as_view(), name="setup"),
    path("verify/", views.VerifyView.as_view(), name="verify"),
    path("backup-codes/", views.BackupCodesView.as_view(), name="backup_codes"),
    path("disable/", views.DisableView.as_view(), name="disable"),
    path("workspace/<slug:workspace_slug>/", views.WorkspacePolicyView.as_view(), name="workspace_policy"),
]
