"""The access explainer: for one member and one place (the workspace, a site or an experience),
every capability they hold there and where each comes from, and for each one they lack, which
roles, site grants or teams would give it ("why not"); ``capability`` asks about one.

Any member may explain their own access, at /explain/ or at "My access" (/explain/me/, always
oneself, for every member); explaining someone else's needs ``manage_site_access``
(the capability of those who hand out access, and so need to see why someone has it). The sources
come from ``permissions.explain`` (the source tables); the page also reads what the policy answers
(the stored permissions) and says so if the two disagree, which means the stored permissions need
``manage.py sync_permissions``. A fixed number of queries, whatever the workspace's size.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.views.generic import TemplateView

from kernel.views import WorkspaceMixin
from permissions import catalog
from permissions.explain import explain, explain_missing
from permissions.policy import load_permissions, scope_of
from portal.ascii_ids import is_ascii_id
from workspaces.explain.selectors import explainable_experiences, explainable_members, explainable_sites, is_member_id
from workspaces.models import Experience, Membership, Site
from workspaces.sites.forms_access import ExplainForm


class ExplainView(WorkspaceMixin, TemplateView):
    required_capability = "view_workspace"
    template_name = "workspaces/explain.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        can_pick = "manage_site_access" in context["ws_perms"]
        memberships = self._memberships(can_pick)
        sites = self._sites(can_pick)
        experiences = explainable_experiences(self.access, self.workspace)
        subject = self._subject(memberships)
        target = self._target(sites, experiences)
        initial = {"member": str(subject.pk), "target": self._initial_target()}
        focus = self._focus()
        context.update(
            form=ExplainForm(initial=initial, memberships=memberships, sites=sites, experiences=experiences),
            can_pick=can_pick,
            subject=subject,
            target=target,
            focus=focus,
            capability_groups=[(scope.capitalize(), catalog.BY_SCOPE[scope]) for scope in catalog.SCOPES],
        )
        if target is not None:
            name_teams = can_pick or "view_members" in context["ws_perms"]
            context.update(self._explanation(subject, target, focus, name_teams))
        return context

    def _initial_target(self) -> str:
        return self.request.GET.get("target", "")

    def _focus(self) -> catalog.Capability | None:
        """The one capability asked about (``capability``), if any; an unknown codename is a 404."""
        wanted = self.request.GET.get("capability", "")
        if not wanted:
            return None
        if wanted not in catalog.CAPABILITIES:
            raise Http404("No such capability.")
        return catalog.CAPABILITIES[wanted]

    def _memberships(self, can_pick: bool) -> list[Membership]:
        return explainable_members(self.workspace, only=None if can_pick else self.membership)

    def _sites(self, can_pick: bool) -> list[Site]:
        return explainable_sites(self.access, self.workspace, every_site=can_pick)

    def _subject(self, memberships: list[Membership]) -> Membership:
        """The member asked about: oneself by default; another member needs ``manage_site_access``
        (403); an id that is not a member of this workspace is a 404."""
        wanted = self.request.GET.get("member") or str(self.membership.pk)
        for membership in memberships:
            if str(membership.pk) == wanted:
                return membership
        if is_ascii_id(wanted) and is_member_id(self.workspace, wanted):
            label = catalog.CAPABILITIES["manage_site_access"].label
            raise PermissionDenied(f"You need the “{label}” capability to explain another member's access.")
        raise Http404("No such member.")

    def _target(self, sites: list[Site], experiences: list[Experience]):
        """The workspace, a site or an experience from ``target``; None if not chosen yet. Only
        places the page offers are accepted; anything else (another workspace's) is a 404."""
        wanted = self.request.GET.get("target", "")
        if not wanted:
            return None
        if wanted == "workspace":
            return self.workspace
        offered = {f"site:{s.pk}": s for s in sites} | {f"experience:{e.pk}": e for e in experiences}
        if wanted not in offered:
            raise Http404("No such site or experience here.")
        target = offered[wanted]
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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(mine=True, can_pick=False)
        return context

    def _memberships(self, can_pick: bool) -> list[Membership]:
        return explainable_members(self.workspace, only=self.membership)

    def _sites(self, can_pick: bool) -> list[Site]:
        return explainable_sites(self.access, self.workspace, every_site=False)

    def _subject(self, memberships: list[Membership]) -> Membership:
        return memberships[0]

    def _initial_target(self) -> str:
        return self.request.GET.get("target") or "workspace"

    def _target(self, sites: list[Site], experiences: list[Experience]):
        if not self.request.GET.get("target"):
            return self.workspace
        return super()._target(sites, experiences)
