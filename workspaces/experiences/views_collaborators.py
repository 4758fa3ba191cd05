"""The collaborators page of one experience: who collaborates on it, adding and removing them.

Seeing the page needs ``view_experience``; adding and removing need ``manage_collaborators`` (a
collaborator holds it on their experience, owners and admins on all). The collaborators are listed
a page at a time; the member to add is found with the member picker (``kernel.pickers``), which
offers only members whose role may collaborate; the service refuses anyone else if posted anyway.
Another workspace's experience or collaborator is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import TemplateView, View
from django.views.generic.base import ContextMixin

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.paging import PAGE_SIZE, page_links
from kernel.pickers import Picker, PickerViewMixin
from permissions.policy import Access
from portal.ascii_ids import is_ascii_id
from workspaces.experiences.selectors import collaborator_in, collaborators_of, eligible_members, experience_row_in
from workspaces.experiences.services import collaborator_add, collaborator_remove
from workspaces.experiences.views import ExperienceMixin
from workspaces.models import Experience
from workspaces.pickers.forms import member_search
from workspaces.selectors import membership_in


class CollaboratorsMixin(ExperienceMixin):
    @cached_property
    def experience(self) -> Experience:
        return experience_row_in(self.workspace, self.kwargs["experience_pk"])

    def back(self):
        return redirect("collaborators:index", self.workspace.slug, self.experience.pk)


class CollaboratorListView(PickerViewMixin, CollaboratorsMixin, TemplateView):
    """The collaborators, a page at a time, and the member picker that adds one (a search among
    the members who may collaborate, never a list of them all)."""

    template_name = "workspaces/collaborators.html"

    @cached_property
    def can_manage(self) -> bool:
        return self.access.has("manage_collaborators", self.experience)

    @cached_property
    def member_picker(self) -> Picker:
        return Picker(
            self.request.GET,
            name="member",
            field="membership",
            label="Member",
            search=member_search(eligible_members(self.experience)),
            help_text="Only owners, admins and members can collaborate; viewers and billing admins cannot.",
            anchor="add-heading",
        )

    def pickers(self) -> list[Picker]:
        return [self.member_picker] if self.can_manage else []

    def get_context_data(self, **kwargs):
        collaborators = Paginator(collaborators_of(self.experience), PAGE_SIZE).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            collaborators=collaborators,
            collaborators_pager=page_links(self.request.GET, collaborators, "page"),
            member_picker=self.member_picker if self.can_manage else None,
            can_manage=self.can_manage,
            **kwargs,
        )


class CollaboratorAddView(CollaboratorsMixin, View):
    experience_capability = "manage_collaborators"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        pk = request.POST.get("membership", "")
        if not is_ascii_id(pk):  # str.isdigit() alone also takes "١" (Arabic-Indic one)
            messages.error(request, "Choose the member to add.")
            return self.back()
        # Looked up in this workspace only: another workspace's member is not found (404).
        membership = membership_in(self.workspace, int(pk))
        try:
            collaborator_add(actor=request.user, experience=self.experience, membership=membership)
        except RuleViolation as exc:
            for message in exc.messages:
                messages.error(request, message)
            return self.back()
        messages.success(request, f"{membership.user.display_name} now collaborates on “{self.experience.title}”.")
        return self.back()


class CollaboratorRemoveView(ConfirmMixin, CollaboratorsMixin, ContextMixin, View):
    experience_capability = "manage_collaborators"

    @cached_property
    def collaborator(self):
        return collaborator_in(self.experience, self.kwargs["collaborator_pk"])

    def confirmation(self) -> Confirmation:
        name, title = self.collaborator.membership.user.display_name, self.experience.title
        return Confirmation(
            title=f"Remove {name} from “{title}”?",
            button=f"Remove {name}",
            cancel_url=reverse("collaborators:index", args=[self.workspace.slug, self.experience.pk]),
            consequences=[
                f"{name} can no longer edit, publish or see the analytics of “{title}” through collaborating, "
                "at once. Access from their role stays.",
            ],
        )

    def confirmed(self, request, *args, **kwargs):
        collaborator = self.collaborator
        membership = collaborator.membership
        collaborator_remove(actor=request.user, experience=self.experience, membership=membership)
        messages.success(
            request, f"{membership.user.display_name} no longer collaborates on “{self.experience.title}”."
        )
        # Someone who removed themselves may no longer see the experience: a fresh check decides.
        if not Access(request.user).has("view_experience", self.experience):
            return redirect(self.workspace)
        return self.back()
