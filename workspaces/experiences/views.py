"""Experience pages: the list (searched by title, filtered by status, paged), create, view, edit,
publish or unpublish, delete.

Every page finds the experience inside the URL's workspace (another workspace's id is a 404) and
checks its capability on that experience (403 for a member without it). Collaborator management
and viewer-group pages are not here (a later issue).
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import FormView, TemplateView, View
from django.views.generic.base import ContextMixin

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from kernel.paging import clean_text, paged, search_text
from kernel.pickers import Picker
from kernel.views import WorkspaceMixin
from workspaces.experiences.services import experience_create, experience_delete, experience_publish, experience_update
from workspaces.models import Experience
from workspaces.overview.forms import ExperienceForm, PublishForm
from workspaces.overview.views import add_rule_violation
from workspaces.pickers.forms import site_search
from workspaces.selectors import experience_in, find_viewer_groups, site_choices, viewer_groups_of, visible_experiences


class ExperienceMixin(WorkspaceMixin):
    """Looks the experience up in the URL's workspace once and requires ``experience_capability``."""

    experience_capability = "view_experience"

    @cached_property
    def experience(self):
        return experience_in(self.workspace, self.kwargs["pk"])

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            # self.experience looks the workspace up first, so outsiders get 404 before anything else.
            self.access.require(self.experience_capability, self.experience)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            experience=self.experience, exp_perms=self.access.perms(self.experience), **kwargs
        )


class ExperienceListView(WorkspaceMixin, TemplateView):
    """The experiences the person may see, most recently changed first, a page at a time; ``q``
    searches the titles and ``status`` keeps drafts or published ones (any other value is ignored)."""

    template_name = "workspaces/experiences.html"

    def get_context_data(self, **kwargs):
        query = self.request.GET
        q = search_text(query)
        status = query.get("status", "")
        status = status if status in Experience.Status.values else ""
        experiences = visible_experiences(self.access, self.workspace, q=q, status=status)
        return super().get_context_data(
            experiences_pager=paged(experiences, query),
            q=q,
            status=status,
            statuses=Experience.Status.choices,
            **kwargs,
        )


class SitePickerMixin:
    """The experience form's site field lists at most ``kernel.pickers.LIMIT`` sites: the first
    the person can see, or those matching ``?site_q=`` (a search shown when there are more)."""

    @cached_property
    def site_picker(self) -> Picker:
        return Picker(
            self.request.GET, name="site", field="site", label="A site", search=site_search(self.pickable_sites())
        )

    def pickable_sites(self):
        return site_choices(self.access, self.workspace)

    def get_form_kwargs(self):
        offered = [(choice.value, choice.label) for choice in self.site_picker.choices]
        return {**super().get_form_kwargs(), "sites": self.pickable_sites(), "offered": offered}

    def get_context_data(self, **kwargs):
        return super().get_context_data(site_picker=self.site_picker, **kwargs)


class ExperienceCreateView(SitePickerMixin, WorkspaceMixin, FormView):
    required_capability = "add_experience"
    template_name = "workspaces/experience_form.html"
    form_class = ExperienceForm

    def form_valid(self, form):
        try:
            experience = experience_create(actor=self.request.user, workspace=self.workspace, **form.cleaned_data)
        except RuleViolation as exc:
            add_rule_violation(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"The experience “{experience.title}” is created. You collaborate on it.")
        return redirect(experience)


class ExperienceDetailView(ExperienceMixin, TemplateView):
    template_name = "workspaces/experience_detail.html"

    def get_context_data(self, **kwargs):
        site = self.experience.site
        can_open_site = site is not None and self.access.has("view_site", site)
        return super().get_context_data(can_open_site=can_open_site, **kwargs)


class ExperienceEditView(SitePickerMixin, ExperienceMixin, FormView):
    experience_capability = "change_experience"
    template_name = "workspaces/experience_form.html"
    form_class = ExperienceForm

    def get_initial(self):
        return ExperienceForm.initial_from(self.experience)

    def pickable_sites(self):
        return site_choices(self.access, self.workspace, keep=self.experience.site)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "keep": self.experience.site}

    def form_valid(self, form):
        try:
            experience_update(actor=self.request.user, experience=self.experience, **form.cleaned_data)
        except RuleViolation as exc:
            self.experience.refresh_from_db()  # the service changed the object before refusing
            add_rule_violation(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"The experience “{self.experience.title}” is saved.")
        return redirect(self.experience)


GROUPS_SHOWN = 20  # viewer groups offered besides those chosen; a search by name finds the others


class ExperiencePublishView(ExperienceMixin, FormView):
    """Publish (or change who may open a published experience). The viewer groups offered are those
    already chosen and the first ``GROUPS_SHOWN`` others, by name or matching ``groups_q``."""

    experience_capability = "publish_experience"
    template_name = "workspaces/experience_publish.html"
    form_class = PublishForm

    @cached_property
    def groups_text(self) -> str:
        return clean_text(self.request.GET.get("groups_q", ""))

    @cached_property
    def chosen_groups(self) -> list:
        return list(self.experience.viewer_groups.order_by("name", "id"))

    @cached_property
    def found_groups(self) -> list:
        chosen = [group.pk for group in self.chosen_groups]
        return find_viewer_groups(self.workspace, self.groups_text, GROUPS_SHOWN + 1, besides=chosen)

    def get_initial(self):
        return {"visibility": self.experience.visibility, "viewer_groups": self.chosen_groups}

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "viewer_groups": viewer_groups_of(self.workspace),
            "shown_groups": self.chosen_groups + self.found_groups[:GROUPS_SHOWN],
        }

    def get_context_data(self, **kwargs):
        more = len(self.found_groups) > GROUPS_SHOWN
        return super().get_context_data(
            groups_q=self.groups_text,
            groups_more=more,
            groups_shown=GROUPS_SHOWN,
            groups_searchable=more or bool(self.groups_text),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            experience_publish(
                actor=self.request.user,
                experience=self.experience,
                published=True,
                visibility=form.cleaned_data["visibility"],
                viewer_groups=list(form.cleaned_data["viewer_groups"]),
            )
        except RuleViolation as exc:
            self.experience.refresh_from_db()  # the service changed the object before refusing
            add_rule_violation(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"The experience “{self.experience.title}” is published.")
        return redirect(self.experience)


class ExperienceUnpublishView(ConfirmMixin, ExperienceMixin, ContextMixin, View):
    experience_capability = "publish_experience"

    def confirmation(self) -> Confirmation:
        return Confirmation(
            title=f"Unpublish {self.experience.title}?",
            button="Unpublish",
            cancel_url=self.experience.get_absolute_url(),
            consequences=[
                "Its public link stops working at once for everyone who has it, viewer groups included. "
                "Publishing it again makes it reachable again.",
            ],
        )

    def confirmed(self, request, *args, **kwargs):
        experience_publish(actor=request.user, experience=self.experience, published=False)
        messages.success(request, f"The experience “{self.experience.title}” is back to draft.")
        return redirect(self.experience)


class ExperienceDeleteView(ConfirmMixin, ExperienceMixin, TemplateView):
    """GET asks for confirmation; only the POST deletes."""

    experience_capability = "delete_experience"
    template_name = "workspaces/experience_confirm_delete.html"

    def confirmation(self) -> Confirmation:
        return Confirmation(
            title=f"Delete {self.experience.title}?",
            button="Delete experience",
            cancel_url=reverse("workspaces:experience_detail", args=[self.workspace.slug, self.experience.pk]),
        )

    def confirmed(self, request, *args, **kwargs):
        title = self.experience.title
        experience_delete(actor=request.user, experience=self.experience)
        messages.success(request, f"The experience “{title}” is deleted.")
        return redirect(self.workspace)
