"""Forms of the two-factor pages. They check the shape of the input; codes are checked by the
services (``twofactor.devices.verify_code``)."""

from __future__ import annotations

from django import forms
from django.utils.http import url_has_allowed_host_and_scheme

CODE_ATTRS = {"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}


class AppCodeForm(forms.Form):
    """The code the authenticator app shows now (set-up: backup codes do not exist yet)."""

    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=20,
        widget=forms.TextInput(attrs={**CODE_ATTRS, "inputmode": "numeric"}),
        help_text="Six digits; a new one every 30 seconds.",
    )


class CodeForm(forms.Form):
    """A code from the app or one unused backup code."""

    code = forms.CharField(
        label="Code from your authenticator app, or a backup code",
        max_length=20,
        widget=forms.TextInput(attrs=CODE_ATTRS),
    )


class BackupCodeForm(CodeForm):
    """The code page of a person without an authenticator app (their second factor is a passkey)."""

    code = forms.CharField(label="A backup code", max_length=20, widget=forms.TextInput(attrs=CODE_ATTRS))


class PasswordAgainForm(forms.Form):
    """The password once more, before adding a passkey when the last sign-in is not recent."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class RequirementForm(forms.Form):
    two_factor_required = forms.BooleanField(
        label="Require two-factor authentication of every member",
        required=False,
        help_text="Members without it are led to set it up the next time they open the workspace.",
    )


def safe_next(request, fallback: str) -> str:
    """The page to go on to after a two-factor page: ``next`` if it is on this site."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if allowed else fallback
