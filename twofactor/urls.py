"""Two-factor pages, mounted at /accounts/two-factor/ (namespace "two_factor")."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import passkey_views, views

app_name = "two_factor"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("setup/", views.SetupView.as_view(), name="setup"),
    path("verify/", views.VerifyView.as_view(), name="verify"),
    path("backup-codes/", views.BackupCodesView.as_view(), name="backup_codes"),
    path("backup-codes/new/", views.NewBackupCodesView.as_view(), name="new_backup_codes"),
    path("disable/", views.DisableView.as_view(), name="disable"),
    path("passkeys/", passkey_views.PasskeysView.as_view(), name="passkeys"),
    path("passkeys/register/begin/", passkey_views.RegisterBeginView.as_view(), name="passkey_register_begin"),
    path("passkeys/register/complete/", passkey_views.RegisterCompleteView.as_view(), name="passkey_register_complete"),
    path("passkeys/<int:pk>/remove/", passkey_views.PasskeyRemoveView.as_view(), name="passkey_remove"),
    # Under verify/: open to a person who still owes the second step (twofactor.middleware).
    path("verify/passkey/begin/", passkey_views.VerifyBeginView.as_view(), name="passkey_verify_begin"),
    path("verify/passkey/complete/", passkey_views.VerifyCompleteView.as_view(), name="passkey_verify_complete"),
    # Signing in with a passkey alone: before any account is signed in.
    path(
        "passkey-sign-in/begin/",
        login_not_required(passkey_views.SignInBeginView.as_view()),
        name="passkey_sign_in_begin",
    ),
    path(
        "passkey-sign-in/complete/",
        login_not_required(passkey_views.SignInCompleteView.as_view()),
        name="passkey_sign_in_complete",
    ),
    path("workspace/<slug:workspace_slug>/", views.WorkspacePolicyView.as_view(), name="workspace_policy"),
]
