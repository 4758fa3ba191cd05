"""Single sign-on connections: a workspace's OpenID Connect identity provider.

A connection names the identity provider by its issuer (discovery is read from
``<issuer>/.well-known/openid-configuration``), the client the workspace registered there, and the
workspace's *verified* join domains whose addresses sign in through it. The client secret is
needed to call the token endpoint, so it is stored as given (it cannot be hashed); it is never
shown back on a page, written to a log or to the audit log.

Rows are written only through ``sso.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Connection(models.Model):
    class Kind(models.TextChoices):
        OIDC = "oidc", "OpenID Connect"
        SAML = "saml", "SAML 2.0"

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="sso_connections")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.OIDC)
    issuer = models.URLField("issuer URL", max_length=500)
    client_id = models.CharField("client ID", max_length=255)
    client_secret = models.CharField("client secret", max_length=500)
    # SAML 2.0 (kind "saml"): what the identity provider's pasted metadata says. The OpenID Connect
    # fields above stay empty for such a connection, and these for an OpenID Connect one.
    idp_entity_id = models.CharField("IdP entity ID", max_length=500, blank=True, default="")
    idp_sso_url = models.URLField("IdP single sign-on URL", max_length=500, blank=True, default="")
    idp_certificates = models.JSONField("IdP signing certificates", default=list, blank=True)
    domains = models.ManyToManyField("workspaces.JoinDomain", related_name="sso_connections")
    default_role = models.ForeignKey("permissions.Role", on_delete=models.PROTECT, related_name="+")
    enabled = models.BooleanField(default=True)
    # Whether a sign-in the identity provider says was multi-factor (``sso.mfa``) counts as the
    # workspace's second factor, and whether members at the connection's domains keep what they hold
    # without an authenticator app (``permissions.policy.holds_under_two_factor``).
    trust_idp_mfa = models.BooleanField("trust the identity provider's multi-factor sign-in", default=False)
    # Group mapping (``GroupRule``): the claim whose values are mapped, and who saved the mapping
    # (rule 3 is theirs: the roles and teams it gives are given in their name at each sign-in).
    group_claim = models.CharField("group claim", max_length=100, default="groups")
    mapping_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "SSO connection"
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="sso_connection_name_unique_in_workspace"),
        ]

    def __str__(self):
        return self.name

    def __repr__(self):  # never the secret
        return f"<Connection {self.pk} {self.name!r} of workspace {self.workspace_id}>"

    @property
    def provider_id(self) -> str:
        """The connection's name in the sign-in URLs (``/sso/oidc/<provider_id>/…``)."""
        return f"c{self.pk}"

    @property
    def is_saml(self) -> bool:
        return self.kind == self.Kind.SAML

    def state(self) -> dict:
        """What the audit log keeps: everything but the client secret."""
        if self.is_saml:
            return {
                "name": self.name,
                "kind": self.kind,
                "idp_entity_id": self.idp_entity_id,
                "idp_sso_url": self.idp_sso_url,
                "idp_certificates": len(self.idp_certificates),
                "domains": sorted(domain.domain for domain in self.domains.all()),
                "default_role": self.default_role.name,
                "enabled": self.enabled,
                "trust_idp_mfa": self.trust_idp_mfa,
            }
        return {
            "name": self.name,
            "kind": self.kind,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "domains": sorted(domain.domain for domain in self.domains.all()),
            "default_role": self.default_role.name,
            "enabled": self.enabled,
            "trust_idp_mfa": self.trust_idp_mfa,
        }


class SamlAssertion(models.Model):
    """An assertion a SAML connection accepted, kept until it expires: the same assertion ID is
    refused a second time (a replayed response). Written only by ``sso.saml_services``."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    assertion_id = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "assertion_id"], name="sso_saml_assertion_once"),
        ]


class SSORequirement(models.Model):
    """Whether a workspace requires single sign-on of the members at its connections' domains
    (``services.sso_requirement_set``; enforced by ``sso.middleware.RequiredSSOMiddleware``)."""

    workspace = models.OneToOneField("workspaces.Workspace", on_delete=models.CASCADE, related_name="sso_requirement")
    required = models.BooleanField(default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "single sign-on requirement"

    def __str__(self):
        return f"Single sign-on requirement of workspace #{self.workspace_id}"


class GroupRule(models.Model):
    """One line of a connection's group mapping: people whose ID token's group claim carries
    ``value`` get ``role`` (a workspace role, never Owner) or are in ``team``, at each sign-in."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="group_rules")
    position = models.PositiveSmallIntegerField(default=0)
    value = models.CharField(max_length=255)
    role = models.ForeignKey("permissions.Role", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey("workspaces.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["connection", "position", "pk"]
        verbose_name = "single sign-on group rule"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(role__isnull=False, team__isnull=True) | models.Q(role__isnull=True, team__isnull=False)
                ),
                name="sso_group_rule_role_or_team",
            ),
        ]

    def __str__(self):
        return f"{self.value} = {self.target_label}"

    @property
    def target_label(self) -> str:
        return self.role.name if self.role_id else self.team.name
