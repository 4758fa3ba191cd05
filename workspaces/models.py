"""Workspaces and everything that lives in one: people, sites, experiences, teams, invites.

These tables are the source of truth for access. The guardian rows in ``permissions`` are derived
from them (see ``permissions.materialize``) and can always be rebuilt.
"""

import secrets
import zoneinfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from permissions import catalog

TIME_ZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz or tz == "UTC"]


class Workspace(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        default_permissions = ()
        permissions = catalog.meta_permissions(catalog.WORKSPACE)

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("workspaces:detail", args=[self.slug])


class Membership(models.Model):
    """One person's place in one workspace, with exactly one workspace role."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.ForeignKey("permissions.Role", on_delete=models.PROTECT, related_name="memberships")
    joined_at = models.DateTimeField(default=timezone.now)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="membership_one_per_workspace")]
        # The people page's default order: a page of 50 is read off this index, not sorted from all.
        indexes = [
            models.Index(fields=["workspace", "joined_at", "id"], name="membership_workspace_joined"),
            # A workspace's owners (rule 1's count) and the role filter, without reading every member.
            models.Index(fields=["workspace", "role"], name="membership_workspace_role"),
        ]

    def __str__(self):
        return f"{self.user_id} in {self.workspace_id}"


class Site(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60)
    url = models.URLField("address", blank=True)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES, default="UTC")
    # The contract owner and contact person (seed 001). PROTECT: a member who owns a site cannot be
    # removed until a successor is named, so the database itself keeps rule 2.
    owner = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="owned_sites")
    session_capture = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # The site's last reset (capability reset_site): the platform discards the tracked data it
    # collected before this moment and starts afresh; access, settings and experiences stay.
    data_reset_at = models.DateTimeField("data reset at", null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        default_permissions = ()
        permissions = catalog.meta_permissions(catalog.SITE)
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="site_slug_unique_in_workspace")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("workspaces:site_detail", args=[self.workspace.slug, self.slug])


class ViewerGroup(models.Model):
    """Outside viewers allowed to open a restricted published experience (seed 003)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="viewer_groups")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="viewer_group_name_unique")]

    def __str__(self):
        return self.name


class ViewerGroupMember(models.Model):
    group = models.ForeignKey(ViewerGroup, on_delete=models.CASCADE, related_name="members")
    email = models.EmailField()

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint("group", Lower("email"), name="viewer_group_member_unique")]

    def __str__(self):
        return self.email


def new_public_token() -> str:
    """The secret part of a published experience's public address (/p/<token>/): 256 random bits, so
    "anyone with the link" means just that; ids are sequential and would let anyone walk them."""
    return secrets.token_urlsafe(32)


class Experience(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Anyone with the link"
        RESTRICTED = "restricted", "Only people in its viewer groups"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="experiences")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.SET_NULL, related_name="experiences")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    content = models.TextField(blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    visibility = models.CharField(max_length=12, choices=Visibility.choices, default=Visibility.PUBLIC)
    viewer_groups = models.ManyToManyField(ViewerGroup, blank=True, related_name="experiences")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    public_token = models.CharField(max_length=64, unique=True, default=new_public_token, editable=False)

    class Meta:
        ordering = ["-updated_at", "id"]
        default_permissions = ()
        permissions = catalog.meta_permissions(catalog.EXPERIENCE)

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("workspaces:experience_detail", args=[self.workspace.slug, self.pk])


class Collaborator(models.Model):
    """A member explicitly added to one experience (seed 003). Goes when the membership goes."""

    experience = models.ForeignKey(Experience, on_delete=models.CASCADE, related_name="collaborations")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="collaborations")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["experience", "membership"], name="collaborator_unique")]


class Team(models.Model):
    """A named group of members with site grants (seed 002).

    ``group`` is the Django group that carries the team's guardian permissions, so adding a person to
    the team is one row, whatever the number of sites the team reaches.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    group = models.OneToOneField("auth.Group", on_delete=models.PROTECT, related_name="team")
    members = models.ManyToManyField(Membership, through="TeamMembership", related_name="teams", blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint("workspace", Lower("name"), name="team_name_unique_in_workspace")]

    def __str__(self):
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="team_memberships")
    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="team_memberships")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "membership"], name="team_membership_unique")]


class SiteGrant(models.Model):
    """A site role (plus optional extra capabilities) given to one member or one team on one site."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="grants")
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.CASCADE, related_name="site_grants"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="site_grants")
    role = models.ForeignKey("permissions.Role", on_delete=models.PROTECT, related_name="site_grants")
    extra_permissions = models.ManyToManyField("auth.Permission", blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(membership__isnull=False, team__isnull=True)
                | Q(membership__isnull=True, team__isnull=False),
                name="site_grant_member_xor_team",
            ),
            models.UniqueConstraint(fields=["site", "membership"], name="site_grant_one_per_member"),
            models.UniqueConstraint(fields=["site", "team"], name="site_grant_one_per_team"),
        ]

    @property
    def grantee(self):
        return self.membership if self.membership_id else self.team


class Invite(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"
        # Written by a bulk import before it takes the workspace lock, made pending under it in the
        # same transaction (invites.staged): never committed, so never seen by anyone else.
        STAGED = "staged", "Being imported"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invites")
    email = models.EmailField()
    role = models.ForeignKey("permissions.Role", on_delete=models.PROTECT, related_name="invites")
    teams = models.ManyToManyField(Team, blank=True, related_name="invites")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Only the SHA-256 of the link's token is kept; the token itself exists only in the e-mail.
    token_hash = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    send_count = models.PositiveIntegerField(default=1)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["workspace", "status"]), models.Index(fields=["invited_by", "sent_at"])]
        constraints = [
            models.UniqueConstraint(
                "workspace", Lower("email"), condition=Q(status="pending"), name="invite_one_pending_per_address"
            )
        ]

    def __str__(self):
        return f"Invite for {self.email}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class InviteSiteGrant(models.Model):
    """A site grant that the invitee receives on joining."""

    invite = models.ForeignKey(Invite, on_delete=models.CASCADE, related_name="site_grants")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    role = models.ForeignKey("permissions.Role", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["invite", "site"], name="invite_site_grant_unique")]


class InviteSend(models.Model):
    """One e-mail sent for an invite; the rate limits count these rows, so they hold across processes."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    inviter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    email = models.EmailField()
    sent_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "sent_at"]),
            models.Index(fields=["inviter", "sent_at"]),
            models.Index(Lower("email"), "sent_at", name="invite_send_email_idx"),
        ]


class JoinDomain(models.Model):
    """An e-mail domain whose verified addresses may join the workspace (seed 003's auto-join)."""

    class Mode(models.TextChoices):
        AUTOMATIC = "automatic", "Join automatically"
        REQUEST = "request", "Request to join"

    class Method(models.TextChoices):
        EMAIL = "email", "Verified e-mail address"
        DNS = "dns", "DNS TXT record"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="join_domains")
    domain = models.CharField(max_length=253, help_text="IDNA-normalised, lower case.")
    role = models.ForeignKey("permissions.Role", on_delete=models.PROTECT, related_name="+")
    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.AUTOMATIC)
    include_subdomains = models.BooleanField(default=False)
    verification_token = models.CharField(max_length=64)
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_method = models.CharField(max_length=8, choices=Method.choices, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "domain"], name="join_domain_unique_in_workspace"),
            # A verified domain belongs to one workspace only.
            models.UniqueConstraint(
                fields=["domain"], condition=Q(verified_at__isnull=False), name="join_domain_verified_once"
            ),
        ]

    def __str__(self):
        return self.domain


class JoinRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests")
    domain = models.ForeignKey(JoinDomain, null=True, on_delete=models.SET_NULL, related_name="requests")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "user"], condition=Q(status="pending"), name="join_request_one_pending"
            )
        ]


class ViewerLink(models.Model):
    """A one-time link e-mailed to an address of a restricted experience's viewer groups.

    Only the SHA-256 of the link's token is kept; the token itself exists only in the e-mail. The
    rows also serve as the send log that the per-address rate limit counts, so it holds across
    processes.
    """

    experience = models.ForeignKey(Experience, on_delete=models.CASCADE, related_name="viewer_links")
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["experience", "email", "created_at"], name="viewer_link_sends_idx")]

    def __str__(self):
        return f"Viewer link for {self.email}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()
