"""Reads for the workspace pages, with their joins applied, so a list costs the same at any size.

Visibility always goes through the policy (``Access.filter``): a selector never decides on its own
who may see what. Every lookup from a URL is scoped to the URL's workspace, so another workspace's
ids and slugs are simply not found (404).
"""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from permissions import catalog
from permissions.policy import Access
from workspaces.models import Collaborator, Experience, Invite, Membership, Site, ViewerGroup, Workspace


def sole_workspace_of(user) -> Workspace | None:
    """The person's workspace when they belong to exactly one, else None: one query."""
    memberships = list(Membership.objects.filter(user=user).select_related("workspace")[:2])
    return memberships[0].workspace if len(memberships) == 1 else None


def memberships_of(user) -> QuerySet[Membership]:
    """The person's workspaces (as their memberships, with the workspace and role joined)."""
    return (
        Membership.objects.filter(user=user)
        .select_related("workspace", "role")
        .order_by("workspace__name", "workspace_id")
    )


def visible_site_counts(access: Access, workspace_ids: list[int]) -> dict[int, int]:
    """{workspace id: number of sites the person may see there}, in one query for all workspaces."""
    if not workspace_ids:
        return {}
    visible = access.filter("view_site", Site.objects.filter(workspace_id__in=workspace_ids))
    rows = visible.order_by().values("workspace_id").annotate(n=Count("pk")).values_list("workspace_id", "n")
    return dict(rows)


def visible_sites(access: Access, workspace: Workspace) -> QuerySet[Site]:
    """Sites of the workspace the person holds ``view_site`` on, with their owners."""
    sites = Site.objects.filter(workspace=workspace).select_related("owner__user")
    return access.filter("view_site", sites)


COLLABORATORS_SHOWN = 3  # collaborators named per experience in a list; the experience's page names them all


def count_per_row(model, field: str) -> Coalesce:
    """The number of ``model`` rows whose ``field`` is the outer row, as a subquery: an annotation
    that costs no query of its own, and that several of can share a query without multiplying each
    other's rows (as two ``Count`` over joins would: members × grants)."""
    rows = model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def _collaborators() -> Prefetch:
    return Prefetch(
        "collaborations",
        queryset=Collaborator.objects.select_related("membership__user").order_by("added_at", "id"),
    )


def _first_collaborators() -> Prefetch:
    """The first ``COLLABORATORS_SHOWN`` collaborators of each experience, as ``first_collaborators``:
    one query for a page of experiences, whatever the number of collaborators."""
    first = Collaborator.objects.select_related("membership__user").order_by("added_at", "id")
    return Prefetch("collaborations", queryset=first[:COLLABORATORS_SHOWN], to_attr="first_collaborators")


def visible_experiences(access: Access, workspace: Workspace, q: str = "", status: str = "") -> QuerySet[Experience]:
    """Experiences of the workspace the person holds ``view_experience`` on, whose title contains
    ``q`` (any case) and with ``status`` (when given), most recently changed first, with site,
    creator, ``collaborator_count`` and their first collaborators: a page of them costs two queries."""
    experiences = Experience.objects.filter(workspace=workspace)
    if q:
        experiences = experiences.filter(title__icontains=q)
    if status:
        experiences = experiences.filter(status=status)
    experiences = (
        experiences.select_related("site", "created_by")
        .annotate(collaborator_count=count_per_row(Collaborator, "experience"))
        .prefetch_related(_first_collaborators())
        .order_by("-updated_at", "-id")
    )
    return access.filter("view_experience", experiences)


def site_in(workspace: Workspace, slug: str) -> Site:
    """The site with ``slug`` in ``workspace`` (404 otherwise), with its owner."""
    site = get_object_or_404(Site.objects.select_related("owner__user"), workspace=workspace, slug=slug)
    site.workspace = workspace  # already loaded; saves the services a query
    return site


def experience_in(workspace: Workspace, pk: int) -> Experience:
    """The experience ``pk`` in ``workspace`` (404 otherwise), with site, creator, collaborators and
    viewer groups."""
    queryset = (
        Experience.objects.filter(workspace=workspace)
        .select_related("site", "created_by")
        .prefetch_related(_collaborators(), "viewer_groups")
    )
    experience = get_object_or_404(queryset, pk=pk)
    experience.workspace = workspace
    return experience


def membership_in(workspace: Workspace, pk) -> Membership:
    """The membership ``pk`` in ``workspace`` (404 otherwise), with account and role."""
    return get_object_or_404(Membership.objects.select_related("user", "role"), workspace=workspace, pk=pk)


def owners_among(workspace: Workspace, member_ids: list[int]) -> int:
    """How many of ``member_ids`` are owners of ``workspace`` (one query; other ids count nothing)."""
    return Membership.objects.filter(
        workspace=workspace, pk__in=member_ids, role__builtin=True, role__key=catalog.OWNER
    ).count()


def viewer_groups_of(workspace: Workspace) -> QuerySet[ViewerGroup]:
    return ViewerGroup.objects.filter(workspace=workspace)


def find_viewer_groups(workspace: Workspace, text: str, limit: int, *, besides: list[int]) -> list[ViewerGroup]:
    """At most ``limit`` viewer groups of ``workspace`` other than ``besides`` whose name contains
    ``text`` (all when empty), by name: one query whatever the number of groups."""
    groups = viewer_groups_of(workspace).exclude(pk__in=besides)
    if text:
        groups = groups.filter(name__icontains=text)
    return list(groups.order_by("name", "id")[:limit])


def site_choices(access: Access, workspace: Workspace, keep: Site | None = None) -> QuerySet[Site]:
    """Sites an experience may be linked to: those the person can see, plus its current one (so
    saving the form never drops a link the editor cannot see)."""
    choices = access.filter("view_site", Site.objects.filter(workspace=workspace))
    if keep is not None:
        choices = choices | Site.objects.filter(workspace=workspace, pk=keep.pk)
    return choices


def workspace_contents(workspace: Workspace) -> dict[str, int]:
    """How many members, sites, experiences and pending invitations the workspace holds: one
    query (four scalar subqueries), whatever their numbers. The usage page, the billing limits and
    the deletion page read it."""

    def count(queryset):
        return queryset.order_by().values("workspace_id").annotate(n=Count("pk")).values("n")

    def scalar(model, **filters):
        return Subquery(count(model.objects.filter(workspace_id=OuterRef("pk"), **filters)))

    row = (
        Workspace.objects.filter(pk=workspace.pk)
        .annotate(
            n_members=scalar(Membership),
            n_sites=scalar(Site),
            n_experiences=scalar(Experience),
            n_pending_invites=scalar(Invite, status=Invite.Status.PENDING),
        )
        .values("n_members", "n_sites", "n_experiences", "n_pending_invites")
        .first()
    ) or {}
    return {name: row.get(f"n_{name}") or 0 for name in ("members", "sites", "experiences", "pending_invites")}
