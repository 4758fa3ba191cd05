"""SCIM provisioning: a workspace's bearer tokens, and the identities its identity provider manages.

A token is shown once, when it is made; only its SHA-256 is stored (as access keys are). A
``ScimUser`` ties a person of the workspace to the identity provider's view of them: the provider's
``userName`` and ``externalId`` (which need not be the e-mail address), and the name parts it sent.
Whether the person is active is whether they are a member: deprovisioning removes the membership
and keeps this row, so the provider still finds the identity (``active: false``) and can turn it
back on.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class ScimToken(models.Model):
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="scim_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The token's first characters, to recognise it.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The role the people this token provisions join with (``scim.services``). Never Owner, and
    # only a role whoever chose it may give (rule 3); ``role_set_by`` is that person (None: the
    # command line or the migration, which gave Member). A custom role in use by an active token
    # cannot be deleted (``permissions.selectors.role_usage``); a revoked token's role may be, and
    # is then forgotten (a revoked token provisions nobody).
    role = models.ForeignKey("permissions.Role", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    role_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class ScimUser(models.Model):
    """One identity the workspace's identity provider provisioned (SCIM ``User`` resource)."""

    # The resource's SCIM id: random, so it says nothing about accounts or other workspaces.
    scim_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="scim_users")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scim_identities")
    user_name = models.CharField(max_length=254)
    external_id = models.CharField(max_length=254, blank=True)
    given_name = models.CharField(max_length=150, blank=True)
    family_name = models.CharField(max_length=150, blank=True)
    formatted_name = models.CharField(max_length=150, blank=True)
    display_name = models.CharField(max_length=150, blank=True)
    # The addresses as the provider sent them (value, type, primary); the account keeps one of them.
    emails = models.JSONField(default=list, blank=True)
    # True when provisioning made the account: only then may provisioning change its name and address.
    created_account = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="scim_user_one_per_account"),
            models.UniqueConstraint("workspace", Lower("user_name"), name="scim_user_name_unique"),
        ]

    def __str__(self):
        return self.user_name


class ScimGroupMember(models.Model):
    """The provider puts ``identity`` in the team's group. The portal applies it to the team while
    the identity is active (a member): a deprovisioned person leaves the team with the workspace,
    and comes back into it when provisioned again."""

    team = models.ForeignKey("workspaces.Team", on_delete=models.CASCADE, related_name="scim_members")
    identity = models.ForeignKey(ScimUser, on_delete=models.CASCADE, related_name="groups")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "identity"], name="scim_group_member_unique")]

    def __str__(self):
        return f"{self.identity_id} in {self.team_id}"


class ScimGroup(models.Model):
    """What the identity provider keeps about a team it manages (SCIM ``Group``): its externalId."""

    team = models.OneToOneField("workspaces.Team", on_delete=models.CASCADE, related_name="scim")
    external_id = models.CharField(max_length=254, blank=True)

    def __str__(self):
        return self.external_id
