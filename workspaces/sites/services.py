from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import record
from billing.limits import refuse_over_limit
from kernel.errors import RuleViolation
from kernel.locks import answer_deadlocks, lock_workspace
from kernel.slugs import unique_slug
from permissions import catalog, materialize
from permissions.policy import SiteGift, require, require_any, require_can_give
from permissions.roles import permissions_for
from workspaces.models import Membership, Site, SiteGrant, Team, Workspace

SITE_FIELDS = ("name", "url", "time_zone")


def _site_state(site: Site) -> dict:
    return {"name": site.name, "slug": site.slug, "url": site.url, "time_zone": site.time_zone}


def _current_owner(workspace_id: int, owner: Membership) -> Membership:
    """``owner`` read again under the workspace lock (rule 2): a member removed a moment ago,
    whose removal held the same lock, is gone by now and gets the rule's message."""
    if owner.workspace_id != workspace_id:
        raise RuleViolation("The site owner must be a member of this workspace.")
    current = Membership.objects.select_related("user").filter(pk=owner.pk, workspace_id=workspace_id).first()
    if current is None:
        raise RuleViolation(f"{owner.user.email} is no longer a member of this workspace: choose another site owner.")
    return current


def _write_owner(write):
    """Last line for rule 2: the database refuses a site owner that is not a membership. The
    RuleViolation leaves the service's transaction, which rolls it back."""
    try:
        return write()
    except IntegrityError as exc:
        raise RuleViolation("The site owner must be a member of this workspace: choose another site owner.") from exc


@answer_deadlocks
@transaction.atomic
def site_create(
    *,
    actor,
    workspace: Workspace,
    name: str,
    url: str = "",
    time_zone: str = "UTC",
    slug: str = "",
    owner: Membership | None = None,
) -> Site:
    """A new site; its owner defaults to its creator."""
    require(actor, "add_site", workspace)
    if owner is None:
        if actor is None:
            raise RuleViolation("Name the site's owner.")
        owner = Membership.objects.get(workspace=workspace, user=actor)
    lock_workspace(workspace)
    # Under the workspace lock: two sites added at once are counted one after the other.
    refuse_over_limit(workspace, "sites", used=Site.objects.filter(workspace=workspace).count())
    owner = _current_owner(workspace.pk, owner)
    slug = slug or unique_slug(Site, name, workspace=workspace)
    if Site.objects.filter(workspace=workspace, slug=slug).exists():
        raise RuleViolation(f"This workspace already has a site with the short name “{slug}”.")
    site = _write_owner(
        lambda: Site.objects.create(
            workspace=workspace, name=name.strip(), slug=slug, url=url, time_zone=time_zone, owner=owner
        )
    )
    materialize.add_object_rows(site, catalog.SITE)
    record(
        action="site.create",
        actor=actor,
        workspace=workspace,
        target=site,
        after={**_site_state(site), "owner": owner.user.email},
    )
    return site


@transaction.atomic
def site_update(*, actor, site: Site, **changes) -> Site:
    require(actor, "change_site", site)
    unknown = set(changes) - set(SITE_FIELDS)
    if unknown:
        raise ValueError(f"Not site settings: {unknown}")
    before = _site_state(site)
    for name, value in changes.items():
        setattr(site, name, value)
    after = _site_state(site)
    if before != after:
        site.save(update_fields=list(changes))
        record(action="site.update", actor=actor, workspace=site.workspace, target=site, before=before, after=after)
    return site


@transaction.atomic
def site_set_session_capture(*, actor, site: Site, enabled: bool) -> Site:
    require(actor, "manage_session_capture", site)
    if site.session_capture != enabled:
        Site.objects.filter(pk=site.pk).update(session_capture=enabled)
        record(
            action="site.session_capture",
            actor=actor,
            workspace=site.workspace,
            target=site,
            before={"session_capture": site.session_capture},
            after={"session_capture": enabled},
        )
        site.session_capture = enabled
    return site


@transaction.atomic
def site_delete(*, actor, site: Site) -> None:
    require(actor, "delete_site", site)
    record(action="site.delete", actor=actor, workspace=site.workspace, target=site, before=_site_state(site))
    site.delete()  # guardian rows and grants cascade


@transaction.atomic
def site_reset(*, actor, site: Site) -> Site:
    """Reset the site's data: from now on the platform keeps nothing it tracked before this moment
    (it reads ``data_reset_at`` from ``/api/v1/settings/sites``). Who may do what on the site, its
    owner, its settings and the experiences linked to it stay as they are."""
    require(actor, "reset_site", site)
    # The site's row, so two resets at the same moment are recorded one after the other.
    before = Site.objects.select_for_update(no_key=True).values_list("data_reset_at", flat=True).get(pk=site.pk)
    now = timezone.now()
    Site.objects.filter(pk=site.pk).update(data_reset_at=now)
    site.data_reset_at = now
    record(
        action="site.reset",
        actor=actor,
        workspace=site.workspace,
        target=site,
        before={"data_reset_at": before.isoformat() if before else None},
        after={"data_reset_at": now.isoformat()},
    )
    return site


@answer_deadlocks
@transaction.atomic
def site_owner_set(*, actor, site: Site, owner: Membership) -> Site:
    """Rule 2: exactly one site owner, a member of the site's workspace.

    Under the workspace lock (the one a member's removal takes), the new owner is read again and
    the site's current owner too, so a removal at the same moment is either seen or refused.
    """
    require(actor, "manage_site_access", site.workspace)
    if owner.workspace_id != site.workspace_id:
        raise RuleViolation("The site owner must be a member of this workspace.")
    lock_workspace(site.workspace_id)
    owner = _current_owner(site.workspace_id, owner)
    current = Site.objects.filter(pk=site.pk).values_list("owner_id", flat=True).first()
    if current is None:
        raise RuleViolation("This site no longer exists.")
    if current == owner.pk:
        site.owner = owner
        return site
    before = {"owner": Membership.objects.select_related("user").get(pk=current).user.email}
    _write_owner(lambda: Site.objects.filter(pk=site.pk).update(owner=owner))
    site.owner = owner
    record(
        action="site.owner_change",
        actor=actor,
        workspace=site.workspace,
        target=site,
        before=before,
        after={"owner": owner.user.email},
    )
    return site


def _grant_state(grant: SiteGrant | None) -> dict | None:
    if grant is None:
        return None
    extras = sorted(grant.extra_permissions.values_list("codename", flat=True))
    return {"role": grant.role.name, "extra": extras}


@transaction.atomic
def site_grant_set(
    *,
    actor,
    site: Site,
    role,
    membership: Membership | None = None,
    team: Team | None = None,
    extra: frozenset[str] | set[str] = frozenset(),
) -> SiteGrant:
    """Give one member or one team a site role (and extra capabilities) on one site."""
    if (membership is None) == (team is None):
        raise ValueError("A grant goes to one member or one team.")
    _require_grant_manager(actor, site, for_team=team is not None)
    grantee = membership or team
    if grantee.workspace_id != site.workspace_id:
        raise RuleViolation("That member or team is not in this site's workspace.")
    if role.scope != catalog.SITE or role.workspace_id not in (None, site.workspace_id):
        raise RuleViolation("Choose a site role of this workspace.")
    unknown = set(extra) - set(catalog.codenames(catalog.SITE))
    if unknown:
        raise RuleViolation(f"Unknown site capabilities: {', '.join(sorted(unknown))}.")
    require_can_give(actor, SiteGift(role, frozenset(extra)), site)
    grant = SiteGrant.objects.filter(site=site, membership=membership, team=team).select_related("role").first()
    before = _grant_state(grant)
    if grant is None:
        grant = SiteGrant.objects.create(site=site, membership=membership, team=team, role=role)
    elif grant.role_id != role.pk:
        grant.role = role
        grant.save(update_fields=["role"])
    grant.extra_permissions.set(Permission.objects.filter(pk__in=permissions_for(catalog.SITE, set(extra))))
    after = _grant_state(grant)
    if before != after:
        materialize.refresh_grant(site.pk, membership=membership, team=team)
        record(
            action="site_grant.set",
            actor=actor,
            workspace=site.workspace,
            target=site,
            before=_with_grantee(before, grantee),
            after=_with_grantee(after, grantee),
        )
    return grant


def _require_grant_manager(actor, site: Site, *, for_team: bool) -> None:
    """Member grants need manage_site_access; team grants either that or manage_teams (seed 002:
    "add projects to teams")."""
    if for_team:
        require_any(actor, ("manage_site_access", "manage_teams"), site.workspace)
    else:
        require(actor, "manage_site_access", site.workspace)


def _with_grantee(state: dict | None, grantee) -> dict | None:
    if state is None:
        return None
    who = grantee.user.email if isinstance(grantee, Membership) else f"team {grantee.name}"
    return {"grantee": who, **state}


@transaction.atomic
def site_grant_revoke(*, actor, grant: SiteGrant) -> None:
    site = grant.site
    _require_grant_manager(actor, site, for_team=grant.team_id is not None)
    grantee = grant.membership or grant.team
    before = _with_grantee(_grant_state(grant), grantee)
    membership, team = grant.membership, grant.team
    grant.delete()
    materialize.refresh_grant(site.pk, membership=membership, team=team)
    record(action="site_grant.revoke", actor=actor, workspace=site.workspace, target=site, before=before)
