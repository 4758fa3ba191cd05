"""Forms of the settings pages. They check the input for the page; the services check it again,
so every door (browser, admin, shell) obeys the same rules."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from .integrations import Integration, clean_settings
from .models import WorkspacePolicy
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
