"""The team page (docs/RULES.md 4.5 and 4.2: role change, remove and leave, transfer ownership, invite).

One page lists the members, the pending invitations and join requests, and offers each control
only to those who may use it; every control posts to its own small view, which calls one service
and reports the outcome as a message. The services check the capability and the rules again, so
a forged POST is refused the same way (PermissionDenied → 403, RuleViolation → its message).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import TemplateView, View
from django.views.generic.base import ContextMixin

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.paging import PAGE_SIZE, page_links, paged
from kernel.pickers import Picker
from kernel.views import WorkspaceMixin
from workspaces.invites.services import invite_create, invite_resend, invite_revoke
from workspaces.models import Invite, Membership
from workspaces.people.bulk import MAX_BATCH
from workspaces.people.forms import InviteForm, RoleChangeForm, SuccessorForm, TransferForm
from workspaces.people.search import MemberFilterForm, filter_query
from workspaces.people.selectors import (
    active_owner_count,
    invite_in,
    invites_pending,
    join_requests_pending,
    member_in,
    members_page,
    role_choices,
    sites_owned,
    teams_of,
)
from workspaces.people.services import member_change_role, member_leave, member_remove, ownership_transfer
from workspaces.pickers.forms import site_search
from workspaces.selectors import visible_sites


@dataclass
class MemberRow:
    membership: Membership
    is_me: bool
    owned_sites: list[str]
    role_options: list = field(default_factory=list)  # empty: the role is shown, not changeable
    can_remove: bool = False


def _name(membership: Membership) -> str:
    return membership.user.display_name


def _refusal(request, exc: RuleViolation) -> None:
    messages.error(request, " ".join(exc.messages))


class PeoplePageMixin(WorkspaceMixin):
    """Builds the team page's context; the invite view re-renders it with a bound form."""

    template_name = "workspaces/people.html"

    @cached_property
    def roles(self):
        return role_choices(self.workspace, self.access)

    @cached_property
    def teams(self) -> list:
        return teams_of(self.workspace)

    @cached_property
    def site_picker(self) -> Picker:
        """The invitation form's sites: at most ``kernel.pickers.LIMIT`` of those the person can
        see, narrowed by ``?site_q=`` (never a list of every site)."""
        return Picker(
            self.request.GET,
            name="site",
            field="site",
            label="A site",
            search=site_search(visible_sites(self.access, self.workspace)),
            anchor="invite-heading",
            action=reverse("people:index", args=[self.workspace.slug]),
        )

    def invite_form(self, data=None) -> InviteForm:
        return InviteForm(
            data,
            roles=self.roles.workspace_roles,
            givable=self.roles.givable,
            sites=[(choice.value, choice.label) for choice in self.site_picker.choices],
            site_candidates=visible_sites(self.access, self.workspace),
            site_roles=self.roles.site_roles,
            teams=self.teams,
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        perms = context["ws_perms"]
        if "view_members" in perms:
            context.update(self._members_context(perms))
            context["invites_pager"] = paged(invites_pending(self.workspace), self.request.GET, "ipage", one_query=True)
            context["invites"] = context["invites_pager"]["page"]
        if "invite_members" in perms:
            pending = join_requests_pending(self.workspace)
            context["join_requests_pager"] = paged(pending, self.request.GET, "rpage", one_query=True)
            context["join_requests"] = context["join_requests_pager"]["page"]
            context.setdefault("invite_form", self.invite_form())
            context["site_picker"] = self.site_picker
        return context

    def _members_context(self, perms) -> dict:
        """One page of the members matching the URL's search, filters and order (docs: People at scale)."""
        filters = MemberFilterForm(self.request.GET, roles=self.roles.workspace_roles, teams=self.teams)
        criteria = filters.criteria()
        matching = members_page(self.workspace, criteria)
        members = Paginator(matching, PAGE_SIZE).get_page(self.request.GET.get("page"))
        me = self.membership
        owned = sites_owned(self.workspace, [member.pk for member in members])
        may_change = perms & {"change_member_roles", "manage_owners"}
        givable = self.roles.givable if may_change else []
        rows = []
        for member in members:
            row = MemberRow(member, member.pk == me.pk, owned.get(member.pk, []))
            guard = "manage_owners" if member.role.is_owner else None
            if not row.is_me:
                if (guard or "change_member_roles") in perms:
                    row.role_options = givable if member.role in givable else [member.role, *givable]
                row.can_remove = (guard or "remove_members") in perms
            rows.append(row)
        return {
            "rows": rows,
            "members_page": members,
            "members_pager": page_links(self.request.GET, members, "page"),
            "export_query": filter_query(self.request.GET),
            "filters": filters,
            "filtered": any(criteria[key] for key in ("q", "role", "team", "two_factor", "joined_since")),
            "my_sites": owned.get(me.pk, []),
            "last_owner": me.role.is_owner and active_owner_count(self.workspace) <= 1,
            "may_change_roles": bool(may_change),
            "bulk": self._bulk_context(perms),
        }

    def _bulk_context(self, perms) -> dict | None:
        """What the bulk form offers (None: no checkboxes); the services decide each row again."""
        offered = {
            "role": "change_member_roles" in perms,
            "teams": "manage_teams" in perms and bool(self.teams),
            "remove": "remove_members" in perms,
        }
        if not any(offered.values()):
            return None
        return {
            **offered,
            "roles": self.roles.givable,
            "teams_list": self.teams,
            "filter": filter_query(self.request.GET)[1:],
            "limit": MAX_BATCH,
        }


class PeopleView(PeoplePageMixin, TemplateView):
    required_capability = "view_members"


class MemberActionView(WorkspaceMixin, ContextMixin, View):
    """A POST-only control of the team page; answers with a message and the team page. The
    destructive ones (remove, transfer, revoke) confirm first (``kernel.confirm``)."""

    http_method_names = ["post"]

    def back(self):
        return redirect("people:index", self.workspace.slug)

    def member(self) -> Membership:
        """The member named in the URL, in this workspace only (another workspace's id is a 404)."""
        return member_in(self.workspace, self.kwargs["member_pk"])

    def invite(self) -> Invite:
        return invite_in(self.workspace, self.kwargs["invite_pk"])

    def people_url(self) -> str:
        return reverse("people:index", args=[self.workspace.slug])


class ChangeRoleView(ConfirmMixin, MemberActionView):
    """A change that takes Owner away from someone is confirmed first; any other acts at once."""

    required_capability = "change_member_roles"
    http_method_names = ["post"]  # the row's form names the role; there is nothing to confirm without it

    @cached_property
    def target(self) -> Membership:
        return self.member()

    @cached_property
    def form(self) -> RoleChangeForm:
        return RoleChangeForm(self.request.POST, workspace=self.workspace)

    def post(self, request, *args, **kwargs):
        self.target  # noqa: B018 -- another workspace's member is a 404 before anything else is said
        if not self.form.is_valid():
            messages.error(request, self.form.errors["role"][0])
            return self.back()
        return super().post(request, *args, **kwargs)

    def confirmation(self) -> Confirmation | None:
        member, role = self.target, self.form.cleaned_data["role"]
        if not member.role.is_owner or role.is_owner:
            return None
        self.access.require("manage_owners", self.workspace)  # asked only of those who may do it
        name = _name(member)
        return Confirmation(
            title=f"Take Owner away from {name}?",
            button=f"Make {name} {role}",
            cancel_url=self.people_url(),
            consequences=[
                f"{name} ({member.user.email}) is no longer an owner of {self.workspace}: they become {role} at "
                "once and lose what only owners may do (billing, owners, deleting the workspace).",
                "Only an owner can make them an owner again.",
            ],
        )

    def confirmed(self, request, *args, **kwargs):
        member = self.target
        role, previous_role_id = self.form.cleaned_data["role"], member.role_id
        try:
            member_change_role(actor=request.user, membership=member, role=role)
        except RuleViolation as exc:
            _refusal(request, exc)
        else:
            if previous_role_id == role.pk:
                messages.info(request, f"{_name(member)} already has the role {role}.")
            else:
                messages.success(request, f"{_name(member)} is now {role}. The change takes effect at once.")
        return self.back()


class RemoveView(ConfirmMixin, MemberActionView):
    required_capability = "remove_members"

    @cached_property
    def target(self) -> Membership:
        return self.member()

    def confirmation(self) -> Confirmation:
        name = _name(self.target)
        return Confirmation(
            title=f"Remove {name} from {self.workspace}?",
            button=f"Remove {name}",
            cancel_url=self.people_url(),
            consequences=[
                f"{name} ({self.target.user.email}) loses the role {self.target.role}, every site grant, team "
                f"and collaboration in {self.workspace}, at once.",
                "Their experiences stay. To come back they need a new invitation.",
                *self._successor_consequence(),
            ],
        )

    def _successor_consequence(self) -> list[str]:
        successor = self.successor_form.is_valid() and self.successor_form.cleaned_data["successor"]
        return [f"{_name(successor)} becomes the owner of their sites."] if successor else []

    @cached_property
    def successor_form(self) -> SuccessorForm:
        return SuccessorForm(self.request.POST, workspace=self.workspace, leaving=self.target)

    def post(self, request, *args, **kwargs):
        # A successor who is no other member is said at once, before anything is asked.
        if not self.successor_form.is_valid():
            messages.error(request, next(iter(self.successor_form.errors.values()))[0])
            return self.back()
        return super().post(request, *args, **kwargs)

    def confirmed(self, request, *args, **kwargs):
        member, successor = self.target, self.successor_form.cleaned_data["successor"]
        try:
            member_remove(actor=request.user, membership=member, site_successor=successor)
        except RuleViolation as exc:
            _refusal(request, exc)
        else:
            messages.success(
                request,
                f"{_name(member)} is removed from {self.workspace}, with their site grants, teams and "
                "collaborations. Their experiences stay.",
            )
        return self.back()


class LeaveView(ConfirmMixin, MemberActionView):
    """Any member may leave (rule 1 keeps the last owner); the page's form lands on the
    confirmation, which says what goes."""

    required_capability = "view_workspace"

    @cached_property
    def successor_form(self) -> SuccessorForm:
        return SuccessorForm(self.request.POST, workspace=self.workspace, leaving=self.membership)

    def post(self, request, *args, **kwargs):
        # A successor who is no other member is said at once, before anything is asked.
        if not self.successor_form.is_valid():
            messages.error(request, next(iter(self.successor_form.errors.values()))[0])
            return self.back()
        return super().post(request, *args, **kwargs)

    def confirmation(self) -> Confirmation:
        successor = self.successor_form.is_valid() and self.successor_form.cleaned_data["successor"]
        return Confirmation(
            title=f"Leave {self.workspace}?",
            button=f"Leave {self.workspace}",
            cancel_url=self.back().url,
            consequences=[
                f"You lose your role ({self.membership.role}), site grants, teams and collaborations in "
                f"{self.workspace}, at once.",
                "Your experiences stay. To come back, you need a new invitation.",
                *([f"{_name(successor)} becomes the owner of your sites."] if successor else []),
            ],
        )

    def confirmed(self, request, *args, **kwargs):
        try:
            member_leave(membership=self.membership, site_successor=self.successor_form.cleaned_data["successor"])
        except RuleViolation as exc:
            _refusal(request, exc)
            return self.back()
        messages.success(request, f"You left {self.workspace}.")
        return redirect("home")


class TransferView(ConfirmMixin, MemberActionView):
    """Typed confirmation: the new owner's address, so a slip of the finger names nobody."""

    required_capability = "manage_owners"
    http_method_names = ["post"]  # the page's form comes first; there is nothing to confirm without it

    @cached_property
    def form(self) -> TransferForm:
        return TransferForm(self.request.POST, workspace=self.workspace, actor_membership=self.membership)

    def post(self, request, *args, **kwargs):
        if not self.form.is_valid():
            messages.error(request, next(iter(self.form.errors.values()))[0])
            return self.back()
        return super().post(request, *args, **kwargs)

    def confirmation(self) -> Confirmation:
        to, step_down = self.form.cleaned_data["to"], self.form.cleaned_data["step_down"]
        consequences = [
            f"{_name(to)} ({to.user.email}) becomes an owner of {self.workspace}: everything, billing and "
            "owners included, at once.",
        ]
        if step_down:
            consequences.append("You step down to Admin; only an owner can make you an owner again.")
        return Confirmation(
            title=f"Make {_name(to)} an owner of {self.workspace}?",
            button="Transfer ownership and step down" if step_down else "Make them an owner",
            cancel_url=self.people_url(),
            consequences=consequences,
            phrase=to.user.email,
            phrase_label="To confirm, type the new owner's address",
        )

    def confirmed(self, request, *args, **kwargs):
        to, step_down = self.form.cleaned_data["to"], self.form.cleaned_data["step_down"]
        try:
            ownership_transfer(actor=request.user, workspace=self.workspace, to=to, step_down=step_down)
        except RuleViolation as exc:
            _refusal(request, exc)
            return self.back()
        messages.success(request, f"{_name(to)} is now an owner of {self.workspace}.")
        if step_down:
            messages.success(request, "You stepped down: you are now Admin.")
        return self.back()


class InviteCreateView(PeoplePageMixin, TemplateView):
    """The invitation form's POST. All or nothing: a refusal re-renders the page with the form as
    typed and every reason; success names each address and what happened to it."""

    required_capability = "invite_members"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = self.invite_form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = invite_create(
                    actor=request.user,
                    workspace=self.workspace,
                    emails=data["emails"],
                    role=data["role"],
                    site_grants=data["site_grants"],
                    teams=data["teams"],
                )
            except RuleViolation as exc:
                form.add_error(None, exc.messages)
            else:
                self._report(result, data["role"])
                return redirect("people:index", self.workspace.slug)
        messages.error(request, "Nobody was invited: correct the invitation form below.")
        return self.render_to_response(self.get_context_data(invite_form=form))

    def _report(self, result, role) -> None:
        if result.invited:
            addresses = ", ".join(invite.email for invite in result.invited)
            messages.success(self.request, f"Invited as {role}: {addresses}.")
        if result.refreshed:
            addresses = ", ".join(invite.email for invite in result.refreshed)
            messages.success(
                self.request,
                f"Already invited, so the invitation was refreshed (new link, new expiry; the old link no "
                f"longer works): {addresses}.",
            )


class InviteResendView(MemberActionView):
    required_capability = "invite_members"

    def post(self, request, *args, **kwargs):
        invite = self.invite()
        try:
            invite_resend(actor=request.user, invite=invite)
        except RuleViolation as exc:
            _refusal(request, exc)
        else:
            messages.success(request, f"A new link is on its way to {invite.email}; the old link no longer works.")
        return self.back()


class InviteRevokeView(ConfirmMixin, MemberActionView):
    required_capability = "invite_members"

    @cached_property
    def target(self) -> Invite:
        return self.invite()

    def confirmation(self) -> Confirmation:
        return Confirmation(
            title=f"Revoke the invitation for {self.target.email}?",
            button="Revoke the invitation",
            cancel_url=self.people_url(),
            consequences=[
                f"The link sent to {self.target.email} stops working at once; they cannot join {self.workspace} "
                "with it.",
                "You can invite the address again later; it gets a new link.",
            ],
        )

    def confirmed(self, request, *args, **kwargs):
        invite = self.target
        try:
            invite_revoke(actor=request.user, invite=invite)
        except RuleViolation as exc:
            _refusal(request, exc)
        else:
            messages.success(request, f"The invitation for {invite.email} is revoked; its link no longer works.")
        return self.back()
