"""The checks an invitation passes before anything is written (docs/RULES.md 4.2, rule 3).

- ``GrantRules``: rule 3 (nobody gives what they do not hold; only owners invite Owners) and
  "belongs to this workspace", for the role, each site grant and each team of an invitation;
- ``DailyLimits``: per inviter, per workspace and per address, counted from InviteSend rows;
- ``address_problems``: syntax, and each address once per batch.

Each answers for a whole batch in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db.models import Count
from django.db.models.functions import Lower
from django.utils import timezone

from permissions import catalog
from permissions.models import Role
from permissions.policy import SiteGift, access_of
from permissions.roles import builtin_role_by_id
from workspaces.invites.specs import InviteSpec
from workspaces.models import Invite, InviteSend, Site, Team, Workspace

if TYPE_CHECKING:
    from workspaces.invites.writes import PendingInvite

_validate_address = EmailValidator()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _message(exc: Exception) -> str:
    return exc.messages[0] if isinstance(exc, ValidationError) else str(exc)


class GrantRules:
    """Rule 3 and "belongs to this workspace" for one actor, memoised: a file of 10,000 rows names
    only a few roles, sites and teams, so each is checked once. Rule 3 itself is the policy's
    (``Access.give_refusal``); this class only batches it."""

    def __init__(self, actor, workspace: Workspace, specs: Sequence[InviteSpec]):
        self.actor, self.workspace = actor, workspace
        self.access = access_of(actor) if actor is not None else None
        self._memo: dict[tuple, str | None] = {}
        self._roles: dict[int, Role] = {}
        if self.access is not None:
            self._prefetch(specs)

    def _prefetch(self, specs: Sequence[InviteSpec]) -> None:
        """Load the actor's site capabilities and the teams' grants for the whole batch at once."""
        self.access.prefetch_team_grants({team.pk for spec in specs for team in spec.teams})
        sites = {site.pk: site for spec in specs for site, _ in spec.site_grants}
        self.access.prefetch([s for s in sites.values() if s.workspace_id == self.workspace.pk])

    def problem(self, spec: InviteSpec) -> str | None:
        """Why this invitation may not be given, or None."""
        if len({site.pk for site, _ in spec.site_grants}) != len(spec.site_grants):
            return "Each site can appear only once."
        checks = [("role", spec.role)]
        checks += [("grant", site, role) for site, role in spec.site_grants]
        checks += [("team", team) for team in spec.teams]
        for kind, *objects in checks:
            key = (kind, *(obj.pk for obj in objects))
            if key not in self._memo:
                self._memo[key] = getattr(self, f"_check_{kind}")(*objects)
            if self._memo[key]:
                return self._memo[key]
        return None

    def pending_problem(self, pending: PendingInvite) -> str | None:
        """Why the actor may not replace or refresh this pending invitation: only someone who could
        have made it (its role, site grants and teams) may change it."""
        grants = tuple(
            (Site(pk=site_id, workspace_id=self.workspace.pk, slug=slug, name=slug), self._role(role_id))
            for site_id, slug, role_id, _ in pending.grants
        )
        teams = tuple(Team(pk=team_id, workspace_id=self.workspace.pk, name=name) for team_id, name in pending.teams)
        self.access.prefetch_team_grants(team.pk for team in teams) if self.access is not None else None
        spec = InviteSpec(pending.invite.email, pending.invite.role, grants, teams)
        reason = self.problem(spec)
        if reason is None:
            return None
        return (
            f"{pending.invite.email} has a pending invitation (as {pending.invite.role}) that you could not have "
            f"made, so you cannot change it: {reason}"
        )

    def _role(self, role_id: int) -> Role:
        if role_id not in self._roles:
            self._roles[role_id] = builtin_role_by_id(role_id) or Role.objects.get(pk=role_id)
        return self._roles[role_id]

    def _give(self, what, where) -> str | None:
        if self.access is None:
            return None
        if not self.access.is_member(self.workspace):
            return "You are not a member of this workspace."
        return self.access.give_refusal(what, where)

    def _check_role(self, role) -> str | None:
        if role.scope != catalog.WORKSPACE or role.workspace_id not in (None, self.workspace.pk):
            return f"“{role}” is not a workspace role of {self.workspace}."
        return self._give(role, self.workspace)

    def _check_grant(self, site: Site, role) -> str | None:
        if site.workspace_id != self.workspace.pk:
            return f"The site “{site.slug}” is not in {self.workspace}."
        if role.scope != catalog.SITE or role.workspace_id not in (None, self.workspace.pk):
            return f"“{role}” is not a site role of {self.workspace}."
        return self._give(SiteGift(role), site)

    def _check_team(self, team: Team) -> str | None:
        """Joining a team gives its site grants, so they too must be within the actor's reach."""
        if team.workspace_id != self.workspace.pk:
            return f"The team “{team}” is not in {self.workspace}."
        return self._give(team, self.workspace)


class DailyLimits:
    """The daily limits (docs/RULES.md 4.2), counted from InviteSend rows so they hold across processes."""

    def __init__(self, actor, workspace: Workspace):
        self.actor, self.workspace = actor, workspace
        self.since = timezone.now() - timedelta(days=1)

    def batch_problems(self, count: int) -> list[str]:
        """Would ``count`` more e-mails pass the per-inviter or per-workspace limit?"""
        problems = []
        recent = InviteSend.objects.filter(sent_at__gte=self.since)
        if self.actor is not None:
            sent = recent.filter(inviter=self.actor).count()
            limit = settings.INVITE_LIMIT_PER_INVITER_PER_DAY
            if sent + count > limit:
                problems.append(
                    f"{self.actor.email} has sent {_plural(sent, 'invitation')} in the last 24 hours; "
                    f"{count} more would pass the limit of {limit} a day per person. "
                    "Invite fewer people now, or try again later."
                )
        sent = recent.filter(workspace=self.workspace).count()
        limit = settings.INVITE_LIMIT_PER_WORKSPACE_PER_DAY
        if sent + count > limit:
            problems.append(
                f"{self.workspace} has sent {_plural(sent, 'invitation')} in the last 24 hours; "
                f"{count} more would pass the limit of {limit} a day per workspace. "
                "Invite fewer people now, or try again later."
            )
        return problems

    def address_problems(self, emails: Sequence[str]) -> dict[str, str]:
        """Addresses that already received the most invitations allowed in a day, from anyone."""
        limit = settings.INVITE_LIMIT_PER_ADDRESS_PER_DAY
        counts = (
            InviteSend.objects.filter(sent_at__gte=self.since)
            .annotate(address=Lower("email"))
            .filter(address__in=set(emails))
            .values("address")
            .annotate(sent=Count("id"))
            .filter(sent__gte=limit)
        )
        return {
            row["address"]: (
                f"{row['address']} has received {_plural(row['sent'], 'invitation')} in the last 24 hours, "
                f"the limit for one address; try again tomorrow."
            )
            for row in counts
        }


def address_problems(specs: Sequence[InviteSpec]) -> dict[int, str]:
    """Syntax, and each address once per batch."""
    problems, seen = {}, set()
    for index, spec in enumerate(specs):
        try:
            _validate_address(spec.email)
        except ValidationError:
            problems[index] = f"“{spec.email}” is not a valid e-mail address."
            continue
        if len(spec.email) > Invite._meta.get_field("email").max_length:
            problems[index] = f"“{spec.email}” is too long for an e-mail address."
        elif spec.email in seen:
            problems[index] = f"{spec.email} is listed more than once."
        seen.add(spec.email)
    return problems
