"""Guardian's object-permission screens, read-only.

The guardian rows are derived from roles, site grants, teams and collaborations
(``permissions.materialize``), and ``manage.py sync_permissions`` rebuilds them: a row edited by hand
would give access that no role explains, and would silently vanish at the next rebuild. So staff
can see who holds what on a workspace, site or experience, and change it only by changing roles
and grants.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from guardian.admin import GuardedModelAdminMixin

from kernel.admin import admin_url
from permissions.materialize import GROUP_MODELS, USER_MODELS
from permissions.policy import scope_of

READ_ONLY = (
    "Object permissions are derived from workspace roles, site grants, teams and collaborations, and "
    "manage.py sync_permissions rebuilds them: change those instead. This page is read-only."
)


def _group_source(group) -> str:
    role_group = getattr(group, "role_group", None)
    if role_group is not None:
        return f"Workspace role “{role_group.role.name}”"
    team = getattr(group, "team", None)
    if team is not None:
        return f"Team “{team.name}”"
    return "Group"


class ReadOnlyObjectPermissionsMixin(GuardedModelAdminMixin):
    obj_perms_manage_template = "admin/portal/object_permissions.html"

    def _object_or_404(self, request, object_pk):
        obj = get_object_or_404(self.get_queryset(request), pk=unquote(object_pk))
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return obj

    def obj_perms_manage_view(self, request, object_pk):
        obj = self._object_or_404(request, object_pk)
        if request.method == "POST":
            messages.error(request, READ_ONLY)
            return redirect(request.path)
        scope = scope_of(obj)
        people: dict = defaultdict(list)
        for row in USER_MODELS[scope].objects.filter(content_object=obj).select_related("user", "permission"):
            people[row.user].append(row.permission.codename)
        groups: dict = defaultdict(list)
        rows = GROUP_MODELS[scope].objects.filter(content_object=obj)
        for row in rows.select_related("group__role_group__role", "group__team", "permission"):
            groups[row.group].append(row.permission.codename)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Object permissions: {obj}",
            "object": obj,
            "original": str(obj),
            "opts": self.model._meta,
            "app_label": self.model._meta.app_label,
            "read_only_note": READ_ONLY,
            "people": sorted(((user.email, sorted(codes)) for user, codes in people.items())),
            "groups": sorted(((_group_source(group), group.name, sorted(codes)) for group, codes in groups.items())),
            "change_url": admin_url(self.model, "change", obj.pk),
        }
        request.current_app = self.admin_site.name
        return render(request, self.obj_perms_manage_template, context)

    def obj_perms_manage_user_view(self, request, object_pk, user_id):
        return self._refuse_editing(request, object_pk)

    def obj_perms_manage_group_view(self, request, object_pk, group_id):
        return self._refuse_editing(request, object_pk)

    def _refuse_editing(self, request, object_pk):
        obj = self._object_or_404(request, object_pk)
        messages.error(request, READ_ONLY)
        return redirect(admin_url(self.model, "permissions", obj.pk))
