"""Forms of the settings pages. They check the input for the page; the services check it again,
so every door (browser, admin, shell) obeys the same rules."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from kernel.errors import RuleViolation

from .certificates import read_certificate
from .integrations import Integration, clean_settings
from .models import SSOConfiguration, WorkspacePolicy
from .networks import MAX_LINES


class OnOffForm(forms.Form):
    """The body of an on/off toggle button."""

    enabled = forms.ChoiceField(choices=[("on", "On"), ("off", "Off")])

    @property
    def turn_on(self) -> bool:
        return self.cleaned_data["enabled"] == "on"


class IPBlockForm(forms.Form):
    addresses = forms.CharField(
        label="Addresses and ranges",
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocapitalize": "off"}),
        help_text=(
            "One per line: an IPv4 or IPv6 address (203.0.113.7, 2001:db8::1) or a range in CIDR form "
            f"(198.51.100.0/24, 2001:db8::/32). Up to {MAX_LINES} at once; if any line is wrong, none is added."
        ),
        error_messages={"required": "Enter at least one IP address or range."},
    )
    note = forms.CharField(label="Note", max_length=200, required=False, help_text="Optional, e.g. “Office network”.")


class IntegrationForm(forms.Form):
    """An integration's on/off switch and its settings, built from the catalogue."""

    enabled = forms.BooleanField(label="Switched on", required=False)

    def __init__(self, integration: Integration, *args, **kwargs):
        self.integration = integration
        super().__init__(*args, **kwargs)
        for field in integration.fields:
            self.fields[field.name] = field.formfield()

    @property
    def settings(self) -> dict:
        return {field.name: self.cleaned_data.get(field.name, "") for field in self.integration.fields}

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                clean_settings(self.integration, enabled=data.get("enabled", False), settings=self.settings)
            except ValidationError as exc:
                for name, messages in exc.message_dict.items():
                    self.add_error(name, messages)
        return data


class PolicyForm(forms.ModelForm):
    """Only reads and checks the input; ``policy_update`` saves it."""

    class Meta:
        model = WorkspacePolicy
        fields = WorkspacePolicy.POLICY_FIELDS


class SSOForm(forms.ModelForm):
    """Only reads and checks the input; ``sso_save`` saves it."""

    sso_url = forms.URLField(
        label="Single sign-on URL",
        max_length=500,
        assume_scheme="https",
        help_text="Where the platform sends people to sign in; https only.",
    )

    class Meta:
        model = SSOConfiguration
        fields = ("entity_id", "sso_url", "certificate")
        widgets = {"certificate": forms.Textarea(attrs={"rows": 8, "spellcheck": "false"})}
        help_texts = {
            "entity_id": "The identity provider's issuer, e.g. https://idp.example.com/saml/metadata.",
            "certificate": "The identity provider's X.509 signing certificate, BEGIN and END lines included.",
        }

    def clean_sso_url(self):
        url = self.cleaned_data["sso_url"]
        if not url.startswith("https://"):
            raise ValidationError("The single sign-on URL must start with https://.")
        return url

    def clean_certificate(self):
        try:
            read_certificate(self.cleaned_data["certificate"])
        except RuleViolation as exc:
            raise ValidationError(exc.messages) from None
        return self.cleaned_data["certificate"]
