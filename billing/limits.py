"""A plan's limits, kept by the services that add what they limit.

``sites`` is checked by ``sites.services.site_create`` (under the workspace lock it already takes),
``members`` by ``people.services.member_add`` (every way in: an accepted invitation, auto-join, an
approved join request, the admin) under ``kernel.locks.lock_member_count``, and, as an early
answer, by the invitation services (members plus pending invitations plus the new ones). A limit
of None, or a limit the plan does not name, is no limit. A workspace above a limit (after a
downgrade staff carried out) keeps what it has and cannot add more.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from kernel.errors import RuleViolation
from workspaces.models import Workspace

from .models import BillingAccount
from .plans import Plan, default_plan, plan_or_unknown

NOUNS = {"sites": ("site", "sites"), "members": ("member", "members")}


def plan_of(workspace: Workspace) -> Plan:
    """The workspace's plan: one query (a workspace without a billing account is on the first plan)."""
    key = BillingAccount.objects.filter(workspace_id=workspace.pk).values_list("plan", flat=True).first()
    return plan_or_unknown(key) if key else default_plan()


def limit_of(plan: Plan, what: str) -> int | None:
    return plan.limits.get(what)


def _noun(what: str, count: int) -> str:
    singular, plural = NOUNS.get(what, (what, what))
    return f"{count:,} {singular if count == 1 else plural}"


class PlanLimitReached(RuleViolation):
    """Adding would take the workspace over its plan's limit; says which plan and where to upgrade."""

    def __init__(self, *, workspace: Workspace, plan: Plan, what: str, limit: int, used: int):
        self.upgrade_url = reverse("billing:plan", args=[workspace.slug])
        super().__init__(
            f"The {plan.name} plan of {workspace.name} includes {_noun(what, limit)}, and "
            f"{used:,} {'is' if used == 1 else 'are'} in use. To add more, someone with billing rights "
            f"upgrades the plan: {self.upgrade_url}"
        )


def refuse_over_limit(workspace: Workspace, what: str, *, used: int, adding: int = 1, plan: Plan | None = None) -> None:
    """PlanLimitReached when ``used + adding`` passes the plan's limit of ``what``."""
    plan = plan or plan_of(workspace)
    limit = limit_of(plan, what)
    if limit is not None and used + adding > limit:
        raise PlanLimitReached(workspace=workspace, plan=plan, what=what, limit=limit, used=used)


@dataclass(frozen=True)
class UsageRow:
    label: str
    used: int
    limit: int | None

    @property
    def full(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    @property
    def over(self) -> bool:
        return self.limit is not None and self.used > self.limit


def usage_rows(plan: Plan, contents: dict[str, int]) -> list[UsageRow]:
    """Used against the limit, for the limits the portal counts (the billing box, the usage page)."""
    return [
        UsageRow("Sites", contents["sites"], limit_of(plan, "sites")),
        UsageRow("Members", contents["members"], limit_of(plan, "members")),
    ]
