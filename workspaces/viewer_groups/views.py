"""Viewer-group pages: the workspace's groups, one group with its addresses, rename, delete.

Every page needs ``manage_viewer_groups`` (the addresses are outside people's, so only those who
manage the groups see them); another workspace's group or address is a 404. Writes go through
``services.viewer_groups``, which checks the capability again and records the audit events. The
groups (by name), a group's addresses (by address) and its experiences are searched and paged
through ``kernel.paging``.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView, View
from django.views.generic.base import ContextMixin

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.paging import paged, search_text
from kernel.views import WorkspaceMixin
from workspaces.models import ViewerGroup
from workspaces.viewer_groups.selectors import (
    group_addresses,
    group_experiences,
    group_member_in,
    groups_with_counts,
    viewer_group_in,
)
from workspaces.viewer_groups.services import (
    viewer_group_create,
    viewer_group_delete,
    viewer_group_member_remove,
    viewer_group_members_add,
    viewer_group_update,
)

MANAGE = "manage_viewer_groups"


class ViewerGroupForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, error_messages={"required": "Give the viewer group a name."})


class AddressesForm(forms.Form):
    emails = forms.CharField(
        label="E-mail addresses",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One or more, separated by commas or line breaks. They need no account.",
        error_messages={"required": "Enter at least one e-mail address."},
    )


class ViewerGroupListView(WorkspaceMixin, FormView):
    """The groups with their number of addresses and experiences, and the form to create one."""

    required_capability = MANAGE
    template_name = "workspaces/viewer_groups.html"
    form_class = ViewerGroupForm

    def get_context_data(self, **kwargs):
        q = search_text(self.request.GET)
        groups = paged(groups_with_counts(self.workspace, q), self.request.GET)
        return super().get_context_data(groups_pager=groups, q=q, **kwargs)

    def form_valid(self, form):
        try:
            group = viewer_group_create(actor=self.request.user, workspace=self.workspace, **form.cleaned_data)
        except RuleViolation as exc:
            form.add_error("name", exc.messages)
            return self.form_invalid(form)
        messages.success(self.request, f"The viewer group “{group.name}” is created. Add its addresses here.")
        return redirect("viewer_groups:detail", self.workspace.slug, group.pk)


class GroupMixin(WorkspaceMixin):
    required_capability = MANAGE

    @cached_property
    def group(self) -> ViewerGroup:
        return viewer_group_in(self.workspace, self.kwargs["group_pk"])

    def back(self):
        return redirect("viewer_groups:detail", self.workspace.slug, self.group.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(group=self.group, **kwargs)


class ViewerGroupDetailView(GroupMixin, FormView):
    """One group: its addresses (with a remove button each), the experiences it opens, and the
    form to add addresses."""

    template_name = "workspaces/viewer_group_detail.html"
    form_class = AddressesForm

    def get_context_data(self, **kwargs):
        query = self.request.GET
        q = search_text(query)
        return super().get_context_data(
            q=q,
            addresses_pager=paged(group_addresses(self.group, q), query),
            experiences_pager=paged(group_experiences(self.group), query, "epage"),
            rename_form=ViewerGroupForm(initial={"name": self.group.name}, auto_id="rename_%s"),
            public_base=settings.PORTAL_BASE_URL.rstrip("/"),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            added = viewer_group_members_add(
                actor=self.request.user, group=self.group, emails=form.cleaned_data["emails"]
            )
        except RuleViolation as exc:
            form.add_error("emails", exc.messages)
            return self.form_invalid(form)
        count = len(added)
        names = added[0].email if count == 1 else f"{count} addresses"
        messages.success(self.request, f"{names} added to “{self.group.name}”.")
        return self.back()


class ViewerGroupRenameView(GroupMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = ViewerGroupForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors["name"]))
            return self.back()
        try:
            viewer_group_update(actor=request.user, group=self.group, **form.cleaned_data)
        except RuleViolation as exc:
            messages.error(request, " ".join(exc.messages))
            return self.back()
        messages.success(request, f"The viewer group is now called “{self.group.name}”.")
        return self.back()


class ViewerGroupDeleteView(ConfirmMixin, GroupMixin, TemplateView):
    """GET asks for confirmation; only the POST deletes."""

    template_name = "workspaces/viewer_group_confirm_delete.html"

    def confirmation(self) -> Confirmation:
        return Confirmation(
            title=f"Delete the viewer group {self.group.name}?",
            button="Delete viewer group",
            cancel_url=reverse("viewer_groups:detail", args=[self.workspace.slug, self.group.pk]),
        )

    def confirmed(self, request, *args, **kwargs):
        name = self.group.name
        try:
            viewer_group_delete(actor=request.user, group=self.group)
        except RuleViolation as exc:
            messages.error(request, " ".join(exc.messages))
            return self.back()
        messages.success(request, f"The viewer group “{name}” is deleted.")
        return redirect("viewer_groups:index", self.workspace.slug)


class ViewerGroupMemberRemoveView(ConfirmMixin, GroupMixin, ContextMixin, View):
    @cached_property
    def member(self):
        return group_member_in(self.group, self.kwargs["member_pk"])

    def confirmation(self) -> Confirmation:
        email = self.member.email
        return Confirmation(
            title=f"Remove {email} from “{self.group.name}”?",
            button=f"Remove {email}",
            cancel_url=reverse("viewer_groups:detail", args=[self.workspace.slug, self.group.pk]),
            consequences=[
                f"{email} can no longer open the restricted experiences shared with “{self.group.name}”, at "
                "once, unless another of their viewer groups lets them.",
                "Links already sent to the address stop working for those experiences.",
            ],
        )

    def confirmed(self, request, *args, **kwargs):
        member = self.member
        viewer_group_member_remove(actor=request.user, group=self.group, member=member)
        messages.success(request, f"{member.email} is removed from “{self.group.name}”.")
        return self.back()
