"""The connection form. It only reads and checks the input; ``sso.services`` saves it."""

from __future__ import annotations

from django import forms

from permissions.forms import role_choice_label
from workspaces.joining.dns import unicode_form

from .selectors import bindable_domains, connection_roles

_TRUST_MFA_RULE = (
    "When this workspace requires two-factor authentication, a sign-in through this connection that the "
    "identity provider says was multi-factor opens the workspace without a code from an authenticator app, "
    "and members at its domains keep their access without setting one up here. A password sign-in still "
    "asks them for a code. Turn it on only if your identity provider really enforces a second factor."
)
TRUST_MFA_OIDC_HELP = (
    f"{_TRUST_MFA_RULE} The ID token must carry an “amr” claim with “mfa”, “otp”, “hwk”, “swk”, “sc” or "
    "“fido” (RFC 8176), or the OpenID PAPE multi-factor “acr”."
)
TRUST_MFA_SAML_HELP = (
    f"{_TRUST_MFA_RULE} The assertion's AuthnContextClassRef must be a multi-factor class: "
    "urn:oasis:names:tc:SAML:2.0:ac:classes: MobileTwoFactorContract, MobileTwoFactorUnregistered, "
    "TimeSyncToken, Smartcard or SmartcardPKI; https://refeds.org/profile/mfa; or "
    "http://schemas.microsoft.com/claims/multipleauthn."
)


class ConnectionForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="How this page names it, e.g. “Acme Okta”.")
    issuer = forms.CharField(
        label="Issuer URL",
        max_length=500,
        help_text="The identity provider's issuer, e.g. https://acme.okta.com; its discovery document is read "
        "from <issuer>/.well-known/openid-configuration.",
    )
    client_id = forms.CharField(label="Client ID", max_length=255)
    client_secret = forms.CharField(
        label="Client secret",
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    domains = forms.ModelMultipleChoiceField(
        label="Domains that sign in through it",
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text="Verified join domains of this workspace. Addresses elsewhere are refused.",
        error_messages={"required": "Choose at least one verified join domain."},
    )
    default_role = forms.ModelChoiceField(
        label="Role of new members",
        queryset=None,
        empty_label="Choose…",
        help_text="The role someone gets the first time they sign in through this connection.",
        error_messages={"required": "Choose the role new members get."},
    )
    enabled = forms.BooleanField(label="Enabled: people sign in through it", required=False, initial=True)
    trust_idp_mfa = forms.BooleanField(
        label="Trust the identity provider's multi-factor sign-in",
        required=False,
        initial=False,
        help_text=TRUST_MFA_OIDC_HELP,
    )

    def __init__(self, *args, workspace, access, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        domains = bindable_domains(workspace).order_by("domain")
        self.fields["domains"].queryset = domains
        self.fields["domains"].choices = [(found.pk, unicode_form(found.domain)) for found in domains]
        # Only roles the person may give (rule 3, as the policy answers it); the service checks again.
        roles = access.givable_roles(connection_roles(workspace), workspace)
        self.fields["default_role"].queryset = connection_roles(workspace).filter(pk__in=[r.pk for r in roles])
        self.fields["default_role"].choices = [("", "Choose…"), *((r.pk, role_choice_label(r)) for r in roles)]
        if editing:
            self.fields["client_secret"].required = False
            self.fields["client_secret"].help_text = "Leave empty to keep the stored secret; it is never shown."


class SamlConnectionForm(ConnectionForm):
    """A SAML 2.0 connection: the identity provider is described by its pasted metadata."""

    metadata_xml = forms.CharField(
        label="Identity provider metadata (XML)",
        max_length=256 * 1024,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="Paste the SAML metadata your identity provider publishes: its entity ID, single sign-on URL "
        "and signing certificates are read from it. Nothing is fetched.",
    )
    field_order = ["name", "metadata_xml", "domains", "default_role", "enabled", "trust_idp_mfa"]

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, editing=editing, **kwargs)
        self.fields["trust_idp_mfa"].help_text = TRUST_MFA_SAML_HELP
        for name in ("issuer", "client_id", "client_secret"):
            del self.fields[name]
        if editing:
            self.fields["metadata_xml"].required = False
            self.fields["metadata_xml"].help_text = (
                "Paste new metadata to replace the identity provider's settings (e.g. a new signing "
                "certificate); leave empty to keep them."
            )


class GroupMappingForm(forms.Form):
    """A connection's group mapping as text; ``services.connection_mapping_set`` reads and checks it."""

    group_claim = forms.CharField(
        label="Group claim",
        max_length=100,
        required=False,
        initial="groups",
        help_text="The ID token claim that lists the person's groups (a list of names, or one name).",
    )
    text = forms.CharField(
        label="Mapping",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
        help_text="One line per rule, “claim value = role or team”: a role by its name (never Owner), or a team "
        "by its name. The first line whose value the person has gives their role; they are in exactly the "
        "mapped teams whose values they have. Owners are never changed. Leave empty for no mapping.",
    )
