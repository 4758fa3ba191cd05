"""The fixed catalogue of integrations, as data, and the validation of their settings.

Each integration names the settings it needs. Settings hold identifiers only, never secrets: the
audit log shows them before and after each change. Required settings must be filled in to switch
an integration on; a switched-off integration keeps its settings for next time.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator


@dataclass(frozen=True)
class SettingField:
    name: str
    label: str
    pattern: str  # the whole value must match
    example: str
    help_text: str = ""
    required: bool = True  # to switch the integration on
    lowercase: bool = False
    max_length: int = 100

    def formfield(self) -> forms.CharField:
        help_text = f"{self.help_text} For example {self.example}.".strip()
        return forms.CharField(
            label=self.label,
            required=False,  # required only when switching on: see clean_settings
            max_length=self.max_length,
            help_text=help_text,
            validators=[
                RegexValidator(rf"\A(?:{self.pattern})\Z", f"Enter a valid {self.label.lower()}, like {self.example}.")
            ],
        )

    def clean(self, value) -> str:
        value = "" if value is None else str(value).strip()
        if self.lowercase:
            value = value.lower()
        return self.formfield().clean(value) if value else ""


@dataclass(frozen=True)
class Integration:
    key: str
    name: str
    description: str
    fields: tuple[SettingField, ...] = ()


INTEGRATIONS: tuple[Integration, ...] = (
    Integration(
        "google_analytics",
        "Google Analytics",
        "Send page views and events to a Google Analytics 4 property.",
        (SettingField("measurement_id", "Measurement ID", r"G-[A-Z0-9]{4,20}", "G-ABC123XYZ9"),),
    ),
    Integration(
        "google_tag_manager",
        "Google Tag Manager",
        "Push events into a Tag Manager data layer.",
        (SettingField("container_id", "Container ID", r"GTM-[A-Z0-9]{4,12}", "GTM-5QX7K2"),),
    ),
    Integration(
        "hubspot",
        "HubSpot",
        "Attach visit and experiment data to HubSpot contacts.",
        (SettingField("portal_id", "Hub ID", r"[0-9]{3,12}", "4815162"),),
    ),
    Integration(
        "intercom",
        "Intercom",
        "Show recordings and experiment variants beside Intercom conversations.",
        (SettingField("app_id", "App ID", r"[a-z0-9]{6,12}", "ab12cd34", lowercase=True),),
    ),
    Integration(
        "shopify",
        "Shopify",
        "Track orders and revenue from a Shopify store.",
        (
            SettingField(
                "shop_domain",
                "Shop domain",
                r"[a-z0-9][a-z0-9-]{0,60}\.myshopify\.com",
                "acme-store.myshopify.com",
                lowercase=True,
            ),
        ),
    ),
    Integration(
        "zendesk",
        "Zendesk",
        "Link recordings to Zendesk tickets.",
        (
            SettingField(
                "subdomain",
                "Zendesk subdomain",
                r"[a-z0-9][a-z0-9-]{0,62}",
                "acme",
                help_text="The part before .zendesk.com.",
                lowercase=True,
            ),
        ),
    ),
    Integration("wordpress", "WordPress", "Install the tracking code through the WordPress plugin; no settings."),
)

BY_KEY = {integration.key: integration for integration in INTEGRATIONS}
INTEGRATION_CHOICES = [(integration.key, integration.name) for integration in INTEGRATIONS]


def clean_settings(integration: Integration, *, enabled: bool, settings: dict) -> dict:
    """The integration's settings, cleaned: only its own fields, each valid, the required ones
    filled in when it is switched on. Raises ValidationError naming each bad field."""
    cleaned, errors = {}, {}
    for field in integration.fields:
        try:
            cleaned[field.name] = field.clean(settings.get(field.name))
        except ValidationError as exc:
            errors[field.name] = exc.messages
            continue
        if enabled and field.required and not cleaned[field.name]:
            errors[field.name] = [f"Fill in the {field.label.lower()} to switch {integration.name} on."]
    if errors:
        raise ValidationError(errors)
    return cleaned
