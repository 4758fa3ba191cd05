"""The roles pages: the roles list (what each role is for, who holds it) and the capability matrix
for every member; for ``manage_roles`` the custom-role editor and the preset loader.

Views stay thin: every write goes through ``permissions.services`` (or ``presets.load_preset``),
which check ``manage_roles`` and rule 3 again.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView, View

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.paging import paged, search_text
from kernel.views import WorkspaceMixin

from . import catalog
from .forms import PresetForm, RoleForm, role_choice_label, role_origin
from .models import Role
from .presets import PRESETS, load_preset
from .roles import role_codes
from .selectors import custom_role_in, role_usage, roles_of, roles_with_holders, start_role_in
from .services import role_delete, role_save


def _rows(scope: str, roles: list[Role], codes_of) -> list[tuple[str, list[dict]]]:
    return [
        (area, [{"cap": cap, "cells": [cap.codename in codes_of(role) for role in roles]} for cap in caps])
        for area, caps in catalog.areas(scope)
    ]


def role_tables(roles: list[Role]) -> list[dict]:
    """One table per scope: rows are capabilities grouped by area, columns are roles.

    Reads only prefetched ``permissions`` and ``site_permissions``, so the page's query count does
    not depend on the number of roles.
    """
    workspace_roles = [r for r in roles if r.scope == catalog.WORKSPACE]
    site_roles = [r for r in roles if r.scope == catalog.SITE]

    def caps(role):
        return {p.codename for p in role.permissions.all()}

    def site_caps(role):
        return {p.codename for p in role.site_permissions.all()}

    return [
        {
            "id": "workspace-roles",
            "title": "Workspace roles",
            "intro": "Every member has exactly one. Their site capabilities apply on every site of the workspace.",
            "roles": workspace_roles,
            "groups": [
                {"heading": "", "areas": _rows(catalog.WORKSPACE, workspace_roles, caps)},
                {"heading": "On every site", "areas": _rows(catalog.SITE, workspace_roles, site_caps)},
            ],
        },
        {
            "id": "site-roles",
            "title": "Site roles",
            "intro": "Given on one site by a site grant, to a member or a team.",
            "roles": site_roles,
            "groups": [{"heading": "", "areas": _rows(catalog.SITE, site_roles, caps)}],
        },
    ]


ROLES_PER_PAGE = 50


class RoleListView(WorkspaceMixin, TemplateView):
    """Every role of the workspace, built-in first: what it is for, its kind, where it comes from,
    and how many hold it. The counts come with the page's one query of roles."""

    template_name = "permissions/roles.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        search = search_text(self.request.GET)
        pager = paged(roles_with_holders(self.workspace, search), self.request.GET, size=ROLES_PER_PAGE)
        page = pager["page"]
        can_manage = "manage_roles" in context["ws_perms"]
        presets = PRESETS if can_manage else {}
        context.update(
            page=page,
            pager=pager,
            rows=[{"role": role, "origin": role_origin(role)} for role in page.object_list],
            search=search,
            can_manage=can_manage,
            presets=presets.values(),
            preset_form=PresetForm(presets=presets) if presets else None,
        )
        return context


class RoleMatrixView(WorkspaceMixin, TemplateView):
    """Which capability each role gives, side by side."""

    template_name = "permissions/roles_matrix.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        roles = list(roles_of(self.workspace))
        for role in roles:
            role.origin = role_origin(role)  # two presets' "Admin" columns tell themselves apart
        context.update(tables=role_tables(roles), custom_roles=[role for role in roles if not role.builtin])
        return context


class CustomRoleMixin(WorkspaceMixin):
    """Pages that change custom roles: ``manage_roles``, and only this workspace's custom roles
    (built-in roles and other workspaces' roles answer 404)."""

    required_capability = "manage_roles"

    @cached_property
    def role(self) -> Role:
        return custom_role_in(self.workspace, self.kwargs["pk"])

    def list_url(self) -> str:
        return reverse("roles:index", args=[self.workspace.slug])


def _start_groups(roles) -> list[tuple[str, list[tuple[int, str]]]]:
    """The "start from" choices: every role, workspace roles then site roles, labelled as pickers do."""
    groups = {catalog.WORKSPACE: [], catalog.SITE: []}
    for role in roles:
        groups[role.scope].append((role.pk, role_choice_label(role)))
    return [("Workspace roles", groups[catalog.WORKSPACE]), ("Site roles", groups[catalog.SITE])]


class RoleCreateView(CustomRoleMixin, FormView):
    """A new custom role. ``?scope=site`` makes it a site role; ``?from=<role id>`` starts from any
    role of the workspace (built-in or custom), with its kind and those of its capabilities the
    person holds ticked."""

    template_name = "permissions/roles_form.html"
    form_class = RoleForm

    def editing(self) -> Role | None:
        return None

    @cached_property
    def start_role(self) -> Role | None:
        """The role named by ``?from=``; 404 for one that is not a role of this workspace."""
        wanted = self.request.GET.get("from")
        if self.editing() is not None or wanted is None:
            return None
        role = start_role_in(self.workspace, wanted)
        if role is None:
            raise Http404("No such role here.")
        return role

    def get_initial(self):
        if self.start_role is None:
            return {}
        initial = RoleForm.initial_for(self.start_role, held=role_codes(self.membership.role))
        return {**initial, "name": "", "description": ""}

    def get_form_kwargs(self):
        scope = self.request.GET.get("scope")
        if scope not in (catalog.WORKSPACE, catalog.SITE):
            scope = None  # anything else: a workspace role, the usual kind
        if self.start_role is not None:
            scope = self.start_role.scope
        return {**super().get_form_kwargs(), "role": self.editing(), "scope": scope}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(role=self.editing(), **kwargs)
        if self.editing() is None:
            context.update(
                start_role=self.start_role,
                not_held=self._not_held(),
                start_groups=_start_groups(roles_of(self.workspace)),
            )
        return context

    def _not_held(self) -> list[str]:
        """The start role's capabilities the person does not hold, so the page can say why they are
        not ticked (rule 3: they could not give them)."""
        if self.start_role is None:
            return []
        caps, site_caps = role_codes(self.start_role)
        held, held_site = role_codes(self.membership.role)
        if self.start_role.scope == catalog.SITE:
            missing = caps - held_site
        else:
            missing = (caps - held - catalog.OWNER_ONLY) | (site_caps - held_site)
        return [catalog.CAPABILITIES[code].label for code in sorted(missing)]

    def form_valid(self, form):
        try:
            role = role_save(
                actor=self.request.user, workspace=self.workspace, role=self.editing(), **form.service_arguments()
            )
        except RuleViolation as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"The role “{role.name}” is saved; its holders have its capabilities now.")
        return redirect(self.list_url())


class RoleEditView(RoleCreateView):
    def editing(self) -> Role | None:
        return self.role


class RoleDeleteView(ConfirmMixin, CustomRoleMixin, TemplateView):
    """GET asks for confirmation (and says who still holds the role); POST deletes."""

    template_name = "permissions/roles_confirm_delete.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(role=self.role, usage=role_usage(self.role), **kwargs)

    def confirmation(self) -> Confirmation:
        return Confirmation(
            title=f"Delete the role “{self.role.name}”?", button="Delete the role", cancel_url=self.list_url()
        )

    def confirmed(self, request, *args, **kwargs):
        name = self.role.name
        try:
            role_delete(actor=request.user, role=self.role)
        except RuleViolation as exc:
            for message in exc.messages:
                messages.error(request, message)
            return self.get(request, *args, **kwargs)
        messages.success(request, f"The role “{name}” is deleted.")
        return redirect(self.list_url())


class PresetLoadView(WorkspaceMixin, View):
    required_capability = "manage_roles"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        presets = PRESETS
        form = PresetForm(request.POST, presets=presets)
        if not form.is_valid():
            messages.error(request, "Choose one of the presets.")
        else:
            preset = presets[form.cleaned_data["preset"]]
            try:
                roles = load_preset(actor=request.user, workspace=self.workspace, name=preset.name)
            except RuleViolation as exc:
                for message in exc.messages:
                    messages.error(request, f"The preset “{preset.title}” was not loaded: {message}")
            else:
                names = ", ".join(role.name for role in roles)
                messages.success(request, f"The preset “{preset.title}” is loaded: {names}.")
        return redirect("roles:index", self.workspace.slug)
