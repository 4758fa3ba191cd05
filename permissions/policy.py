"""The one place that answers "may this person do X here?" and "may they give Y?".

Every view, service, admin class and API view asks through this module; nothing else reads the
guardian tables. ``Access`` answers for one person and caches what it loaded, so one request that
asks many questions runs few queries; a new request gets a new ``Access`` (the middleware makes
one), so a change takes effect on the next request.

Membership decides visibility: someone outside a workspace holds nothing in it and gets 404, a
member without the capability gets 403. Superusers are staff, not members: they have the admin,
and here they are treated like anyone else.

Giving is asked here too (rule 3, nobody gives what they do not hold): ``Access.give_refusal``
answers for a workspace role, a site role with extra capabilities on one site, a team (joining it
gives its site grants) and a custom role's capabilities. Services refuse with it, and pickers offer
only what it allows (``givable_roles``), so the rule is written once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Exists, Model, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat, Lower
from django.http import Http404
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from accounts.models import User
from kernel.errors import CapabilityMissing, RuleViolation
from twofactor.models import WorkspaceSecurity
from workspaces.models import JoinDomain, Membership, SiteGrant, Team

from . import catalog
from .materialize import GROUP_MODELS, USER_MODELS, WORKSPACE_PATH
from .models import Role
from .roles import grant_codes, role_codes, role_rows

SCOPE_OF_MODEL = {"workspace": catalog.WORKSPACE, "site": catalog.SITE, "experience": catalog.EXPERIENCE}


def scope_of(obj_or_model) -> str:
    return SCOPE_OF_MODEL[obj_or_model._meta.model_name]


def workspace_id_of(obj) -> int:
    return obj.pk if scope_of(obj) == catalog.WORKSPACE else obj.workspace_id


def holds_under_two_factor(user_ref, workspace_ref: str | int):
    """A condition: the person may hold what they have in the workspace as far as two-factor
    authentication goes. Someone who must set it up (the workspace requires it and they have
    neither a confirmed authenticator app nor a confirmed passkey) holds nothing there until they
    do, unless their address is at a domain of a connection of the workspace that trusts its
    identity provider's multi-factor sign-in (``at_trusted_idp_domain``). Subqueries, no extra
    query.

    ``user_ref`` is the user's id or the outer query's path to it; ``workspace_ref`` the outer
    query's path to the workspace's id, or the id itself when every object asked about is in one
    known workspace: then the requirement is looked up once, not joined and asked for every row.
    """
    workspace = OuterRef(workspace_ref) if isinstance(workspace_ref, str) else workspace_ref
    required = WorkspaceSecurity.objects.filter(workspace_id=workspace, two_factor_required=True)
    user = OuterRef(user_ref) if isinstance(user_ref, str) else user_ref
    # A second factor: an authenticator app or a passkey (as ``twofactor.devices.second_factor``).
    has_device = Exists(TOTPDevice.objects.filter(user_id=user, confirmed=True)) | Exists(
        WebAuthnCredential.objects.filter(user_id=user, confirmed=True)
    )
    return ~Exists(required) | has_device | Exists(at_trusted_idp_domain(user_ref, workspace))


def at_trusted_idp_domain(user_ref, workspace) -> QuerySet:
    """A subquery: the person's address is at a domain of an *enabled* connection of the workspace
    that trusts its identity provider's multi-factor sign-in (``sso.Connection.trust_idp_mfa``):
    a verified, active join domain bound to it, the address's domain itself or, when the join
    domain includes subdomains, under it. They sign in through the provider, whose multi-factor
    sign-in is their second factor there, so they keep what they hold without an authenticator app.

    This is only about holding: a session still needs a second factor to open the workspace's pages
    (``twofactor.middleware``; a password session is asked for a code or set-up as before).

    Compared in SQL on the lower-cased stored address (``…@domain`` or ``….domain``): a suffix
    without "@" lies in the address's domain part, so a local part cannot fake it.
    """
    if isinstance(user_ref, str):
        path = user_ref[: -len("_id")] if user_ref.endswith("_id") else user_ref
        email = Lower(OuterRef(f"{path}__email"), output_field=CharField())
    else:
        email = Lower(Subquery(User.objects.filter(pk=user_ref).values("email")[:1]))
    return (
        JoinDomain.objects.filter(
            verified_at__isnull=False,
            suspended_at__isnull=True,
            sso_connections__workspace_id=workspace,
            sso_connections__enabled=True,
            sso_connections__trust_idp_mfa=True,
        )
        .annotate(member_email=email)
        .filter(
            Q(member_email__endswith=Concat(Value("@"), "domain"))
            | Q(include_subdomains=True, member_email__endswith=Concat(Value("."), "domain"))
        )
    )


def load_permissions(
    user_ids: Iterable[int], scope: str, object_ids: Iterable[int], *, workspace_id: int | None = None
) -> dict[tuple[int, int], set[str]]:
    """{(user id, object id): codenames} for many people and objects of one scope: one query.

    Inactive accounts hold nothing, and nor does a member who must still set up two-factor
    authentication, in the workspaces that require it (``holds_under_two_factor``). Callers that
    know every object is in one workspace say which (``workspace_id``), which makes the query cheaper.
    """
    user_ids, object_ids = list(set(user_ids)), list(set(object_ids))
    found: dict[tuple[int, int], set[str]] = defaultdict(set)
    if not user_ids or not object_ids:
        return found
    direct = (
        USER_MODELS[scope]
        .objects.filter(
            holds_under_two_factor("user_id", workspace_id or WORKSPACE_PATH[scope]),
            user_id__in=user_ids,
            user__is_active=True,
            content_object_id__in=object_ids,
        )
        .values_list("user_id", "content_object_id", "permission__codename")
    )
    through_groups = (
        GROUP_MODELS[scope]
        .objects.filter(
            holds_under_two_factor("group__user", workspace_id or WORKSPACE_PATH[scope]),
            group__user__in=user_ids,
            group__user__is_active=True,
            content_object_id__in=object_ids,
        )
        .values_list("group__user", "content_object_id", "permission__codename")
    )
    for user_id, obj_id, codename in direct.union(through_groups, all=True):
        found[(user_id, obj_id)].add(codename)
    return found


def held_anything(user_id: int, queryset: QuerySet) -> QuerySet:
    """The objects of ``queryset`` (sites or experiences) on which the person holds at least one
    capability, directly or through a group, as far as two-factor authentication goes: a filter,
    no query of its own. Lets a caller read a page of them (the member permissions API)."""
    scope = scope_of(queryset.model)
    direct = USER_MODELS[scope].objects.filter(user_id=user_id).values("content_object_id")
    via_groups = GROUP_MODELS[scope].objects.filter(group__user=user_id).values("content_object_id")
    held = direct.union(via_groups)
    return queryset.filter(holds_under_two_factor(user_id, "workspace_id"), pk__in=held)


class Access:
    """What one person may do, with a cache of what was already looked up."""

    def __init__(self, user):
        self.user = user
        self._perms: dict[tuple[str, int], frozenset[str]] = {}
        self._memberships: dict[int, object] = {}
        self._team_grants: dict[int, list] = {}

    @property
    def _user_id(self):
        return self.user.pk if self.user is not None and self.user.is_authenticated else None

    # --- membership ---

    def membership(self, workspace):
        """The person's Membership in ``workspace`` (with its role), or None."""
        workspace_id = workspace if isinstance(workspace, int) else workspace.pk
        if workspace_id not in self._memberships:
            membership = None
            if self._user_id and self.user.is_active:
                membership = (
                    Membership.objects.select_related("role")
                    .filter(workspace_id=workspace_id, user_id=self._user_id)
                    .first()
                )
            self._memberships[workspace_id] = membership
        return self._memberships[workspace_id]

    def membership_in(self, workspace_slug: str):
        """The person's Membership (with its workspace and role) in the workspace with this slug:
        one query, or none when the two-factor middleware already loaded it. 404 for anyone who is
        not a member, whether or not the workspace exists."""
        for membership in self._memberships.values():
            loaded = membership is not None and Membership.workspace.is_cached(membership)
            if loaded and membership.workspace.slug == workspace_slug:
                return membership
        membership = None
        if self._user_id and self.user.is_active:
            membership = (
                Membership.objects.select_related("workspace", "role")
                .filter(workspace__slug=workspace_slug, user_id=self._user_id)
                .first()
            )
        if membership is None:
            raise Http404("No such workspace.")
        self._memberships[membership.workspace_id] = membership
        return membership

    def remember_membership(self, membership) -> None:
        """Cache a membership (with its role) the caller loaded anyway, such as the two-factor
        middleware's, so that ``membership()`` does not ask again."""
        if membership.user_id == self._user_id:
            self._memberships[membership.workspace_id] = membership

    def is_member(self, workspace) -> bool:
        return self.membership(workspace) is not None

    # --- capabilities ---

    def perms(self, obj: Model) -> frozenset[str]:
        """Every capability the person holds on ``obj``."""
        scope = scope_of(obj)
        key = (scope, obj.pk)
        if key not in self._perms:
            self.prefetch([obj])
        return self._perms[key]

    def prefetch(self, objects: Iterable[Model]) -> None:
        """Load the person's capabilities on many objects of one kind in one query."""
        objects = [obj for obj in objects if (scope_of(obj), obj.pk) not in self._perms]
        if not objects:
            return
        scope = scope_of(objects[0])
        workspaces = {workspace_id_of(obj) for obj in objects}
        one_workspace = workspaces.pop() if len(workspaces) == 1 else None
        loaded = (
            load_permissions([self._user_id], scope, [o.pk for o in objects], workspace_id=one_workspace)
            if self._user_id
            else {}
        )
        for obj in objects:
            self._perms[(scope, obj.pk)] = frozenset(loaded.get((self._user_id, obj.pk), ()))

    def has(self, codename: str, obj: Model) -> bool:
        _check_codename(codename, scope_of(obj))
        return codename in self.perms(obj)

    def has_any(self, codenames: Iterable[str], obj: Model) -> bool:
        return any(self.has(code, obj) for code in codenames)

    def require_member(self, workspace) -> None:
        """404 unless the person belongs to the workspace."""
        if not self.is_member(workspace):
            raise Http404("No such workspace.")

    def require(self, codename: str, obj: Model) -> None:
        """404 for outsiders, 403 for members without the capability."""
        self.require_member(workspace_id_of(obj))
        if not self.has(codename, obj):
            raise capability_missing(codename, obj)

    def filter(self, codename: str, queryset: QuerySet) -> QuerySet:
        """The objects of ``queryset`` on which the person holds ``codename``: one query, any size."""
        scope = scope_of(queryset.model)
        _check_codename(codename, scope)
        if not self._user_id or not self.user.is_active:
            return queryset.none()
        permission_filter = {"permission__codename": codename}
        direct = USER_MODELS[scope].objects.filter(user_id=self._user_id, **permission_filter)
        via_groups = GROUP_MODELS[scope].objects.filter(group__user=self._user_id, **permission_filter)
        held = direct.values("content_object_id").union(via_groups.values("content_object_id"))
        workspace_ref = "pk" if scope == catalog.WORKSPACE else "workspace_id"
        return queryset.filter(holds_under_two_factor(self._user_id, workspace_ref), pk__in=held)

    # --- giving (rule 3) ---

    def give_refusal(self, what, where: Model) -> str | None:
        """Why the person may not give ``what`` at ``where``, or None when they may.

        - a workspace ``Role`` in a workspace: only owners give Owner; its capabilities must be within
          the person's own role (its site capabilities within the role's site capabilities, since a
          grant on one site is not enough to hand out a role that works on every site);
        - a site ``Role``, or a ``SiteGift`` (site role plus extra capabilities), on a site: every
          capability must be one the person holds on that site;
        - a ``Team`` in a workspace: joining it gives its site grants, each within the person's reach
          on its site;
        - ``COLLABORATION`` on an experience: the collaborator capabilities, which the person must
          hold there;
        - ``Capabilities`` (a custom role's) in a workspace: as for a workspace role.
        """
        if isinstance(what, Role) and what.scope == catalog.SITE:
            what = SiteGift(what)
        if isinstance(what, SiteGift):
            return self._beyond_on(where, what.codes)
        if what is COLLABORATION:
            return self._beyond_on(where, catalog.COLLABORATOR_CAPABILITIES)
        membership = self.membership(where)
        if membership is None:
            return "You are not a member of this workspace."
        if isinstance(what, Team):
            return self._team_refusal(what)
        if isinstance(what, Role):
            if what.is_owner and not membership.role.is_owner:
                return "Only owners can make someone an owner."
            rows = role_rows(what)
            what = Capabilities(workspace=rows.workspace, site=rows.site)
        held, held_site = role_codes(membership.role)
        beyond = (what.workspace - held) | (what.site - held_site)
        if beyond:
            return f"You cannot give capabilities you do not hold: {', '.join(sorted(beyond))}."
        return None

    def can_give(self, what, where: Model) -> bool:
        return self.give_refusal(what, where) is None

    def require_can_give(self, what, where: Model) -> None:
        """Raise the refusal: PermissionDenied for a non-member, RuleViolation for rule 3."""
        if self.membership(workspace_id_of(where)) is None:
            raise PermissionDenied("You are not a member of this workspace.")
        refusal = self.give_refusal(what, where)
        if refusal is not None:
            raise RuleViolation(refusal)

    def givable_roles(self, roles: Iterable[Role], where: Model) -> list[Role]:
        """Those of ``roles`` the person may give at ``where`` (for pickers)."""
        return [role for role in roles if self.can_give(role, where)]

    def prefetch_team_grants(self, team_ids: Iterable[int]) -> None:
        """Load the site grants of many teams (and the person's capabilities on their sites) at once,
        for a batch that checks many teams."""
        team_ids = [pk for pk in set(team_ids) if pk not in self._team_grants]
        if not team_ids:
            return
        grants = (
            SiteGrant.objects.filter(team_id__in=team_ids)
            .select_related("site", "role")
            .prefetch_related("extra_permissions", "role__permissions", "role__site_permissions")
        )
        for pk in team_ids:
            self._team_grants[pk] = []
        for grant in grants:
            self._team_grants[grant.team_id].append(grant)
        self.prefetch([grant.site for grants in self._team_grants.values() for grant in grants])

    def _team_refusal(self, team: Team) -> str | None:
        self.prefetch_team_grants([team.pk])
        for grant in self._team_grants[team.pk]:
            refusal = self._beyond_on(grant.site, grant_codes(grant), through=team)
            if refusal:
                return refusal
        return None

    def _beyond_on(self, obj: Model, codes: frozenset[str], through: Team | None = None) -> str | None:
        beyond = set(codes) - self.perms(obj)
        if not beyond:
            return None
        via = f" (through the team {through})" if through is not None else ""
        return f"You cannot give capabilities you do not hold on {obj}{via}: {', '.join(sorted(beyond))}."


@dataclass(frozen=True)
class SiteGift:
    """A site role, and extra capabilities, given on one site (a site grant, an invite's grant)."""

    role: Role
    extra: frozenset[str] = frozenset()

    @property
    def codes(self) -> frozenset[str]:
        return role_rows(self.role).site | self.extra


COLLABORATION = object()  # what making someone a collaborator gives: catalog.COLLABORATOR_CAPABILITIES


@dataclass(frozen=True)
class Capabilities:
    """A custom role's capabilities: on the workspace, and on every site."""

    workspace: frozenset[str] = frozenset()
    site: frozenset[str] = frozenset()


def capability_missing(codename: str, obj: Model) -> CapabilityMissing:
    """The refusal of a member who lacks ``codename`` on ``obj``: it names the capability."""
    return CapabilityMissing(
        f"You need the “{catalog.CAPABILITIES[codename].label}” capability.",
        capability=codename,
        workspace_id=workspace_id_of(obj),
    )


def access_of(actor) -> Access:
    """The Access of the person acting: the request's own (with what it already loaded) when the
    actor is the signed-in person of a request, otherwise a new one."""
    access = getattr(actor, "request_access", None)
    return access if access is not None and access.user is actor else Access(actor)


def require(actor, codename: str, obj: Model) -> Access | None:
    """Refuse unless ``actor`` holds ``codename`` on ``obj``; the system (None) may do anything.

    Members without the capability get PermissionDenied naming it; so do non-members (a service
    has no 404 to give: the page in front of it already answered that).
    """
    if actor is None:
        return None
    access = access_of(actor)
    if not access.is_member(workspace_id_of(obj)):
        raise PermissionDenied("You are not a member of this workspace.")
    if not access.has(codename, obj):
        raise capability_missing(codename, obj)
    return access


def require_any(actor, codenames: tuple[str, ...], obj: Model) -> Access | None:
    """Refuse unless ``actor`` holds at least one of ``codenames`` on ``obj``."""
    if actor is None:
        return None
    access = access_of(actor)
    if access.is_member(workspace_id_of(obj)) and access.has_any(codenames, obj):
        return access
    return require(actor, codenames[-1], obj)


def require_can_give(actor, what, where: Model) -> None:
    """Rule 3 for a service: the system (None) gives anything; a person only what they hold."""
    if actor is not None:
        access_of(actor).require_can_give(what, where)


def _check_codename(codename: str, scope: str) -> None:
    capability = catalog.CAPABILITIES.get(codename)
    if capability is None:
        raise ValueError(f"Unknown capability {codename!r}.")
    if capability.scope != scope:
        raise ValueError(f"{codename!r} is a {capability.scope} capability, not a {scope} one.")


def holders(codename: str, workspace) -> QuerySet[Membership]:
    """The memberships of ``workspace`` whose people hold the workspace capability ``codename``:
    through their role's group or held directly, active accounts only, and not while they owe
    two-factor set-up (as ``load_permissions``). "Whom to tell" asks this (``workspaces.notices``).

    A queryset of one query whatever the workspace's size, for the caller to narrow, order and cap.
    """
    _check_codename(codename, catalog.WORKSPACE)
    held = {"content_object_id": workspace.pk, "permission__codename": codename}
    through_group = GROUP_MODELS[catalog.WORKSPACE].objects.filter(group__user=OuterRef("user_id"), **held)
    direct = USER_MODELS[catalog.WORKSPACE].objects.filter(user_id=OuterRef("user_id"), **held)
    return Membership.objects.filter(
        holds_under_two_factor("user_id", workspace.pk),
        Exists(through_group) | Exists(direct),
        workspace=workspace,
        user__is_active=True,
    )
