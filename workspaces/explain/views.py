"""The access explainer: for one member and one place (the workspace, a site or an experience),
every capability they hold there and where each comes from, and for each one they lack, which
roles, site grants or teams would give it ("why not"); ``capability`` asks about one.

Any member may explain their own access, at /explain/ or at "My access" (/explain/me/, always
oneself, for every member); explaining someone else's needs ``manage_site_access``
(the capability of those who hand out access, and so need to see why someone has it). The sources
come from ``permissions.explain`` (the source tables); the page also reads what the policy answers
(the stored permissions) and says so if the two disagree, which means the stored permissions need
``manage.py sync_permissions``. The member and the place are chosen with pickers (a search and at
most ``kernel.pickers.LIMIT`` matches, never a list of every member or site) and looked up again
within the URL's workspace; a fixed number of queries, whatever the workspace's size.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from kernel.pickers import Choice, Picker, PickerViewMixin, with_chosen
from kernel.views import WorkspaceMixin
from permissions import catalog
from permissions.explain import explain, explain_missing
from permissions.policy import load_permissions, scope_of
from workspaces.explain.pickers import (
    WORKSPACE,
    WORKSPACE_CHOICE,
    experience_choice,
    place_from,
    place_search,
    site_choice,
)
from workspaces.explain.selectors import explainable_experiences, explainable_members, explainable_sites, is_member_id
from workspaces.models import Experience, Membership, Site
from workspaces.pickers.forms import id_from, member_choice, member_search
from workspaces.pickers.selectors import picked


class ExplainView(PickerViewMixin, WorkspaceMixin, TemplateView):
    required_capability = "view_workspace"
    template_name = "workspaces/explain.html"

    @cached_property
    def can_pick(self) -> bool:
        """Whether the person may explain others (and so choose whom, and see every site)."""
        return self.access.has("manage_site_access", self.workspace)

    @cached_property
    def sites(self):
        return explainable_sites(self.access, self.workspace, every_site=self.can_pick)

    @cached_property
    def experiences(self):
        return explainable_experiences(self.access, self.workspace)

    @cached_property
    def subject(self) -> Membership:
        return self._subject()

    @cached_property
    def target(self):
        return self._target()

    @cached_property
    def member_picker(self) -> Picker:
        return Picker(
            self.request.GET,
            name="member",
            field="member",
            label="Member",
            search=with_chosen(member_search(explainable_members(self.workspace)), member_choice(self.subject)),
            selected=str(self.subject.pk),
            anchor="explain-form",
        )

    @cached_property
    def place_picker(self) -> Picker:
        chosen = _place_choice(self.target)
        return Picker(
            self.request.GET,
            name="target",
            field="target",
            label="Where",
            search=with_chosen(place_search(self.sites, self.experiences), chosen),
            help_text="The workspace itself, one site or one experience.",
            selected=chosen.value if chosen else "",
            anchor="explain-form",
        )

    def pickers(self) -> list[Picker]:
        return [self.member_picker, self.place_picker] if self.can_pick else [self.place_picker]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        subject, target, focus = self.subject, self.target, self._focus()
        context.update(
            member_picker=self.member_picker if self.can_pick else None,
            place_picker=self.place_picker,
            can_pick=self.can_pick,
            subject=subject,
            target=target,
            focus=focus,
            capability_groups=[(scope.capitalize(), catalog.BY_SCOPE[scope]) for scope in catalog.SCOPES],
        )
        if target is not None:
            name_teams = self.can_pick or "view_members" in context["ws_perms"]
            context.update(self._explanation(subject, target, focus, name_teams))
        return context

    def _focus(self) -> catalog.Capability | None:
        """The one capability asked about (``capability``), if any; an unknown codename is a 404."""
        wanted = self.request.GET.get("capability", "")
        if not wanted:
            return None
        if wanted not in catalog.CAPABILITIES:
            raise Http404("No such capability.")
        return catalog.CAPABILITIES[wanted]

    def _subject(self) -> Membership:
        """The member asked about (one query): oneself by default; another member needs
        ``manage_site_access`` (403); an id that is not a member of this workspace is a 404."""
        wanted = self.request.GET.get("member") or str(self.membership.pk)
        pk = id_from(wanted)
        if pk is not None and (self.can_pick or pk == self.membership.pk):
            found = picked(explainable_members(self.workspace), pk)
            if found is not None:
                return found
        elif pk is not None and is_member_id(self.workspace, pk):
            label = catalog.CAPABILITIES["manage_site_access"].label
            raise PermissionDenied(f"You need the “{label}” capability to explain another member's access.")
        raise Http404("No such member.")

    def _target(self):
        """The workspace, a site or an experience from ``target``; None if not chosen yet. Only
        places the person may explain are found; anything else (another workspace's) is a 404."""
        wanted = self.request.GET.get("target", "")
        if not wanted:
            return None
        if wanted == WORKSPACE:
            return self.workspace
        target = place_from(wanted, self.sites, self.experiences)
        if target is None:
            raise Http404("No such site or experience here.")
        target.workspace = self.workspace
        return target

    def _explanation(self, subject: Membership, target, focus, name_teams: bool) -> dict:
        sources = explain(subject, target)
        scope = scope_of(target)
        held = load_permissions([subject.user_id], scope, [target.pk]).get((subject.user_id, target.pk), set())
        missing = explain_missing(subject, target, sources, name_teams=name_teams)
        answer = None
        if focus is not None and focus.scope == scope:
            answer = {"cap": focus, "sources": sources.get(focus.codename), "givers": missing.get(focus.codename)}
        return {
            "areas": _by_area(scope, sources),
            "missing_areas": _by_area(scope, missing),
            "missing_count": len(missing),
            "held_count": len(sources),
            "in_sync": set(sources) == set(held),
            "scope": scope,
            "answer": answer,
        }


def _by_area(scope: str, reasons: dict[str, list[str]]) -> list:
    """[(area, [(capability, reasons)])] for the capabilities in ``reasons``, in catalog order."""
    areas = [
        (area, [(cap, reasons[cap.codename]) for cap in caps if cap.codename in reasons])
        for area, caps in catalog.areas(scope)
    ]
    return [(area, rows) for area, rows in areas if rows]


class MyAccessView(ExplainView):
    """ "My access": the explainer for oneself, open to every member; the workspace unless a place
    is chosen. ``member`` is not read: this page never explains anyone else."""

    @cached_property
    def can_pick(self) -> bool:
        return False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(mine=True)
        return context

    def _subject(self) -> Membership:
        return picked(explainable_members(self.workspace), self.membership.pk)

    def _target(self):
        if not self.request.GET.get("target"):
            return self.workspace
        return super()._target()


def _place_choice(target) -> Choice | None:
    """The picker's choice for the place already chosen, or None."""
    if target is None:
        return None
    if isinstance(target, Site):
        return site_choice(target)
    if isinstance(target, Experience):
        return experience_choice(target)
    return WORKSPACE_CHOICE
