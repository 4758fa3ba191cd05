"""The one place that answers "may this person do X here?".

Every view, service, admin class and API view asks through this module; nothing else reads the
guardian tables. ``Access`` answers for one person and caches what it loaded, so one request that
asks many questions runs few queries; a new request gets a new ``Access`` (the middleware makes
one), so a change takes effect on the next request.

Membership decides visibility: someone outside a workspace holds nothing in it and gets 404, a
member without the capability gets 403. Superusers are staff, not members: they have the admin,
and here they are treated like anyone else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Model, OuterRef, QuerySet
from django.http import Http404
from django_otp.plugins.otp_totp.models import TOTPDevice

from twofactor.models import WorkspaceSecurity

from . import catalog
from .materialize import GROUP_MODELS, USER_MODELS, WORKSPACE_PATH

SCOPE_OF_MODEL = {"workspace": catalog.WORKSPACE, "site": catalog.SITE, "experience": catalog.EXPERIENCE}


def scope_of(obj_or_model) -> str:
    return SCOPE_OF_MODEL[obj_or_model._meta.model_name]


def workspace_id_of(obj) -> int:
    return obj.pk if scope_of(obj) == catalog.WORKSPACE else obj.workspace_id


def holds_under_two_factor(user_ref, workspace_ref: str):
    """A condition: the person may hold what they have in the workspace as far as two-factor
    authentication goes. Someone who must set it up (the workspace requires it and they have no
    confirmed authenticator app) holds nothing there until they do. Two subqueries, no extra query.

    ``user_ref`` is the user's id or the outer query's path to it; ``workspace_ref`` the outer
    query's path to the workspace's id.
    """
    required = WorkspaceSecurity.objects.filter(workspace_id=OuterRef(workspace_ref), two_factor_required=True)
    user = OuterRef(user_ref) if isinstance(user_ref, str) else user_ref
    has_device = TOTPDevice.objects.filter(user_id=user, confirmed=True)
    return ~Exists(required) | Exists(has_device)


def load_permissions(user_ids: Iterable[int], scope: str, object_ids: Iterable[int]) -> dict[tuple[int, int], set[str]]:
    """{(user id, object id): codenames} for many people and objects of one scope: two queries.

    Inactive accounts hold nothing, and nor does a member who must still set up two-factor
    authentication, in the workspaces that require it (``holds_under_two_factor``).
    """
    user_ids, object_ids = list(set(user_ids)), list(set(object_ids))
    found: dict[tuple[int, int], set[str]] = defaultdict(set)
    if not user_ids or not object_ids:
        return found
    direct = (
        USER_MODELS[scope]
        .objects.filter(
            holds_under_two_factor("user_id", WORKSPACE_PATH[scope]),
            user_id__in=user_ids,
            user__is_active=True,
            content_object_id__in=object_ids,
        )
        .values_list("user_id", "content_object_id", "permission__codename")
    )
    through_groups = (
        GROUP_MODELS[scope]
        .objects.filter(
            holds_under_two_factor("group__user", WORKSPACE_PATH[scope]),
            group__user__in=user_ids,
            group__user__is_active=True,
            content_object_id__in=object_ids,
        )
        .values_list("group__user", "content_object_id", "permission__codename")
    )
    for user_id, obj_id, codename in list(direct) + list(through_groups):
        found[(user_id, obj_id)].add(codename)
    return found


class Access:
    """What one person may do, with a cache of what was already looked up."""

    def __init__(self, user):
        self.user = user
        self._perms: dict[tuple[str, int], frozenset[str]] = {}
        self._memberships: dict[int, object] = {}

    @property
    def _user_id(self):
        return self.user.pk if self.user is not None and self.user.is_authenticated else None

    # --- membership ---

    def membership(self, workspace):
        """The person's Membership in ``workspace`` (with its role), or None."""
        workspace_id = workspace if isinstance(workspace, int) else workspace.pk
        if workspace_id not in self._memberships:
            from workspaces.models import Membership

            membership = None
            if self._user_id and self.user.is_active:
                membership = (
                    Membership.objects.select_related("role")
                    .filter(workspace_id=workspace_id, user_id=self._user_id)
                    .first()
                )
            self._memberships[workspace_id] = membership
        return self._memberships[workspace_id]

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
        """Load the person's capabilities on many objects of one kind in two queries."""
        objects = [obj for obj in objects if (scope_of(obj), obj.pk) not in self._perms]
        if not objects:
            return
        scope = scope_of(objects[0])
        loaded = load_permissions([self._user_id], scope, [o.pk for o in objects]) if self._user_id else {}
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
            raise PermissionDenied(f"You need the “{catalog.CAPABILITIES[codename].label}” capability.")

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


def _check_codename(codename: str, scope: str) -> None:
    capability = catalog.CAPABILITIES.get(codename)
    if capability is None:
        raise ValueError(f"Unknown capability {codename!r}.")
    if capability.scope != scope:
        raise ValueError(f"{codename!r} is a {capability.scope} capability, not a {scope} one.")
