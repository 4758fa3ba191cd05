"""Reads of the site pages: the sites list, the workspace roles that reach every site, the site's
grants, and one grant of the site. Each costs a fixed number of queries whatever the number of
rows; a grant is looked up within its site only (other ids are a 404). The members and teams a
grant may name are found by the pickers (``workspaces.pickers``), a page of matches at a time.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from permissions import catalog
from permissions.models import Role
from permissions.policy import Access
from permissions.roles import load_codes, role_codes
from permissions.selectors import roles_of
from workspaces.models import Membership, Site, SiteGrant, Workspace
from workspaces.selectors import visible_sites

ALL_SITE_CODES = frozenset(catalog.codenames(catalog.SITE))


def sites_listed(access: Access, workspace: Workspace, text: str = "") -> QuerySet[Site]:
    """The sites of ``workspace`` the person may see whose name or address contains ``text``, by
    name (then id, so equal names keep one order across pages), with their owners."""
    sites = visible_sites(access, workspace)
    if text:
        sites = sites.filter(Q(name__icontains=text) | Q(url__icontains=text))
    return sites.order_by("name", "id")


def workspace_wide_roles(workspace) -> list[Role]:
    """Workspace roles whose site capabilities reach every site, with how many members hold each
    and ``site_caps`` (catalog entries, or None for "every site capability"): the roles in one query
    (custom roles' capabilities in one more, only if there are any), then the members of those roles
    only, counted on the (workspace, role) index; never a join of every member with the roles."""
    roles = list(roles_of(workspace, catalog.WORKSPACE).prefetch_related(None))
    load_codes(roles)
    found = []
    for role in roles:
        codes = role_codes(role)[1]
        if codes:
            role.site_caps = (
                None if codes == ALL_SITE_CODES else [c for c in catalog.SITE_CAPABILITIES if c.codename in codes]
            )
            found.append(role)
    if found:
        holders = Membership.objects.filter(workspace=workspace, role_id__in=[role.pk for role in found])
        counts = dict(holders.order_by().values("role_id").annotate(n=Count("pk")).values_list("role_id", "n"))
        for role in found:
            role.member_count = counts.get(role.pk, 0)
    return found


def site_grants(site, *, teams: bool, text: str = "") -> QuerySet[SiteGrant]:
    """The site's grants to teams (by team name) or to members (by address), whose team name, or
    member's name or address, contains ``text``; with role and grantee joined and the extra
    capabilities prefetched (``with_extra_caps`` on a page of them)."""
    grants = SiteGrant.objects.filter(site=site).select_related("role").prefetch_related("extra_permissions")
    if teams:
        grants = grants.filter(team__isnull=False).select_related("team").order_by("team__name", "id")
        grants = grants.annotate(member_count=Count("team__team_memberships"))
        return grants.filter(team__name__icontains=text) if text else grants
    grants = grants.filter(membership__isnull=False).select_related("membership__user", "membership__role")
    grants = grants.order_by("membership__user__email", "id")
    if text:
        grants = grants.filter(
            Q(membership__user__full_name__icontains=text) | Q(membership__user__email__icontains=text)
        )
    return grants


def site_grant_in(site: Site, pk) -> SiteGrant:
    """The grant ``pk`` on ``site`` (404 otherwise), with role and grantee."""
    queryset = SiteGrant.objects.select_related("role", "team", "membership__user")
    grant = get_object_or_404(queryset, site=site, pk=pk)
    grant.site = site
    return grant
