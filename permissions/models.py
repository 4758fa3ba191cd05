"""Roles, the groups that carry them, access keys, and guardian's object-permission tables.

The guardian tables use direct foreign keys (guardian's ``UserObjectPermissionBase`` /
``GroupObjectPermissionBase``): rows cascade with their object, so a deleted site never leaves
permissions behind for a later one with the same id, and the joins stay indexed.
"""

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from . import catalog


class Role(models.Model):
    """A named set of capabilities.

    Built-in roles have no workspace and mirror ``catalog.BUILTIN_ROLES``; custom roles belong to
    one workspace. A workspace role's ``site_permissions`` apply on every site of the workspace.
    """

    SCOPE_CHOICES = [(catalog.WORKSPACE, "Workspace role"), (catalog.SITE, "Site role")]

    workspace = models.ForeignKey(
        "workspaces.Workspace", null=True, blank=True, on_delete=models.CASCADE, related_name="custom_roles"
    )
    scope = models.CharField(max_length=12, choices=SCOPE_CHOICES)
    key = models.SlugField(max_length=60)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    builtin = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=100, help_text="Order in lists; built-ins first.")
    preset = models.CharField(max_length=40, blank=True, help_text="The preset that created this role.")
    permissions = models.ManyToManyField(Permission, blank=True, related_name="+")
    site_permissions = models.ManyToManyField(Permission, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["scope", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"], condition=Q(workspace__isnull=True), name="role_builtin_key_unique"
            ),
            models.UniqueConstraint(fields=["workspace", "scope", "key"], name="role_custom_key_unique"),
            models.CheckConstraint(
                condition=Q(builtin=True, workspace__isnull=True) | Q(builtin=False, workspace__isnull=False),
                name="role_builtin_has_no_workspace",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_owner(self) -> bool:
        return self.builtin and self.key == catalog.OWNER


class RoleGroup(models.Model):
    """The Django group that carries one workspace role's permissions in one workspace.

    Every member with that role is in the group, so changing a member's role moves one row, and a
    role's capabilities on every site are stored once per site, not once per member and site.
    """

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="role_groups")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="groups")
    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="role_group")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "role"], name="role_group_unique")]


# A key's scopes by their short names (permissions.keys.SCOPES says what each allows).
SCOPE_NAMES = {"check": "Check", "read_settings": "Read settings", "read_members": "Read members"}


def check_scope_only() -> list[str]:
    """Keys made before scopes existed, and keys made without a choice, only ask the check API."""
    return ["check"]


class AccessKey(models.Model):
    """A workspace's key for the API. Only a SHA-256 of the key is stored. ``scopes`` (codes of
    ``permissions.keys.SCOPES``) say which parts of the API it may call; past ``expires_at`` it is
    refused like a revoked key."""

    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="access_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The key's first characters, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=check_scope_only)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_labels(self) -> list[str]:
        return [SCOPE_NAMES.get(scope, scope) for scope in self.scopes]

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class AccessKeyDailyUse(models.Model):
    """How many check-API calls one key made on one day (UTC), and how many questions they asked
    (a batch is one call of up to 1,000 checks). One row per key and day, counted by an UPDATE
    with ``F() + 1`` that holds the row only for its own statement; the usage page reads them."""

    key = models.ForeignKey(AccessKey, on_delete=models.CASCADE, related_name="daily_use")
    day = models.DateField()
    calls = models.PositiveBigIntegerField(default=0)
    checks = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-day", "key_id"]
        constraints = [models.UniqueConstraint(fields=["key", "day"], name="access_key_daily_use_unique")]

    def __str__(self):
        return f"{self.key_id} on {self.day}: {self.calls} calls"


class WorkspaceUserPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        pass


class WorkspaceGroupPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        pass


class SiteUserPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("workspaces.Site", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        pass


class SiteGroupPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("workspaces.Site", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        pass


class ExperienceUserPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("workspaces.Experience", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        pass


class ExperienceGroupPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("workspaces.Experience", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        pass


class AccessVersion(models.Model):
    """A workspace's access version: a number that changes, in the same transaction, with every
    write that can change a check API answer in the workspace (``permissions.access_version``).
    The check API's answer cache keys on it, so a committed change is never answered from before.

    Written only by the database's own triggers; a new row starts at a random number, so a workspace
    id used again (a rolled-back test, a deleted workspace on SQLite) never meets its old answers.
    No foreign key: the row outlives its workspace, and the number never goes back."""

    workspace_id = models.BigIntegerField(primary_key=True)
    version = models.BigIntegerField()

    def __str__(self):
        return f"workspace {self.workspace_id}: version {self.version}"
