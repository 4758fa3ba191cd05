"""Reads of invitations: the invitation a link opens, whether it outgrew its inviter, and the
invitations expired long enough to purge. They change nothing; the writes are in
``workspaces.invites.services``.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.models import User, normalize_email
from workspaces.invites.checks import GrantRules
from workspaces.invites.specs import InviteSpec
from workspaces.invites.writes import hash_token
from workspaces.models import Invite

MAX_TOKEN_LENGTH = 100  # longer strings are not our tokens: refuse them before hashing


def invite_for_token(token: str) -> Invite | None:
    """The invitation a link's token opens (whatever its status), or None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return Invite.objects.select_related("workspace", "role", "invited_by").filter(token_hash=hash_token(token)).first()


def invite_outgrown(invite: Invite) -> bool:
    """Whether the invitation gives more than its inviter may give now (rule 3 at the time of
    joining): an Admin who invited someone as Admin and was then made a Member, or who left, can no
    longer bring anyone in that way. Invitations made by the system (no inviter) never outgrow."""
    inviter = invite.invited_by
    if inviter is None:
        return False
    grants = tuple((g.site, g.role) for g in invite.site_grants.select_related("site", "role"))
    spec = InviteSpec(invite.email, invite.role, grants, tuple(invite.teams.all()))
    return GrantRules(inviter, invite.workspace, [spec]).problem(spec) is not None


def expired_invites(older_than_days: int = 30):
    """Pending or revoked invitations whose link expired more than ``older_than_days`` ago."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    return Invite.objects.filter(expires_at__lt=cutoff).exclude(status=Invite.Status.ACCEPTED)


def has_account(email: str) -> bool:
    """Whether an account exists for the (normalised) address: the link page asks to sign in or up."""
    return User.objects.filter(email=normalize_email(email)).exists()
