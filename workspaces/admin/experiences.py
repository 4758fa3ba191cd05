"""Experiences, their collaborators and viewer groups in the admin, through the experience services."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from kernel.admin import (
    ParentForm,
    PersonLinkForm,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceAdmin,
    ServiceInline,
    count_of,
    link,
    membership_of,
    new_and_deleted,
    person_field,
)
from workspaces.admin.object_permissions import ReadOnlyObjectPermissionsMixin
from workspaces.experiences.services import (
    collaborator_add,
    collaborator_remove,
    experience_create,
    experience_delete,
    experience_publish,
    experience_update,
)
from workspaces.models import Collaborator, Experience, ViewerGroup, ViewerGroupMember

CONTENT_FIELDS = ("title", "description", "content", "site")
PUBLISHING_FIELDS = ("status", "visibility", "viewer_groups")


class ExperienceForm(forms.ModelForm):
    class Meta:
        model = Experience
        fields = ("workspace", "title", "description", "content", "site", "status", "visibility", "viewer_groups")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "viewer_groups" in self.fields:
            self.fields["viewer_groups"].queryset = ViewerGroup.objects.filter(workspace_id=self.instance.workspace_id)

    def clean(self):
        data = super().clean()
        workspace, site = data.get("workspace") or getattr(self.instance, "workspace", None), data.get("site")
        if site is not None and workspace is not None and site.workspace_id != workspace.pk:
            self.add_error("site", f"{site} is not a site of {workspace}.")
        return data


class CollaboratorInlineForm(ParentForm):
    person = person_field(help_text="An owner, admin or member of the experience's workspace.")

    class Meta:
        model = Collaborator
        fields = ("person",)

    def clean(self):
        data = super().clean()
        if self.adding and data.get("person") is not None:
            data["membership"] = membership_of(data["person"], self.parent.workspace_id, self.parent.workspace.name)
        return data


class CollaboratorInline(ServiceInline):
    model = Collaborator
    form = CollaboratorInlineForm
    fields = ("person", "added_by", "added_at")
    readonly_fields = ("added_by", "added_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("membership__user", "added_by")

    @admin.display(description="person")
    def person(self, collaborator):
        return collaborator.membership.user.email


@admin.register(Experience)
class ExperienceAdmin(ReadOnlyObjectPermissionsMixin, ServiceAdmin):
    form = ExperienceForm
    list_display = ("title", "workspace", "site", "status", "visibility", "collaborator_count", "updated_at")
    list_select_related = ("workspace", "site")
    search_fields = ("title", "workspace__name", "workspace__slug", "site__name")
    list_filter = ("status", "visibility", ("workspace", admin.RelatedOnlyFieldListFilter), "updated_at")
    autocomplete_fields = ("workspace", "site")
    inlines = (CollaboratorInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(collaborator_total=count_of(Collaborator, "experience"))

    @admin.display(description="collaborators", ordering="collaborator_total")
    def collaborator_count(self, experience):
        return experience.collaborator_total

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("workspace", *CONTENT_FIELDS)
        return ("workspace", *CONTENT_FIELDS, *PUBLISHING_FIELDS, "created_by", "created_at", "published_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("workspace", "created_by", "created_at", "published_at")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    # --- writes ---

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = experience_create(
                actor=None,
                workspace=data["workspace"],
                title=data["title"],
                description=data["description"],
                content=data["content"],
                site=data["site"],
            )
            obj.pk, obj.created_at = created.pk, created.created_at
            obj._state.adding = False
            return
        experience = Experience.objects.select_related("workspace", "site").get(pk=obj.pk)
        changes = {name: data[name] for name in CONTENT_FIELDS if name in form.changed_data}
        if changes:
            experience = experience_update(actor=None, experience=experience, **changes)
        if set(PUBLISHING_FIELDS) & set(form.changed_data):
            experience_publish(
                actor=None,
                experience=experience,
                published=data["status"] == Experience.Status.PUBLISHED,
                visibility=data["visibility"],
                viewer_groups=list(data["viewer_groups"]),
            )

    def delete_model(self, request, obj):
        experience_delete(actor=None, experience=obj)

    def save_formset(self, request, form, formset, change):
        new, deleted = new_and_deleted(formset)
        experience = formset.instance
        for collaborator in deleted:
            collaborator_remove(actor=None, experience=experience, membership=collaborator.membership)
        for collaborator_form in new:
            collaborator_add(actor=None, experience=experience, membership=collaborator_form.cleaned_data["membership"])


class CollaboratorForm(PersonLinkForm):
    parent_field = "experience"
    person = person_field(help_text="An owner, admin or member of the experience's workspace.")

    class Meta:
        model = Collaborator
        fields = ("experience", "person")


@admin.register(Collaborator)
class CollaboratorAdmin(ServiceAdmin):
    """One person on one experience. Added or removed, never changed."""

    form = CollaboratorForm
    list_display = ("experience", "workspace", "person", "added_by", "added_at")
    list_select_related = ("experience__workspace", "membership__user", "added_by")
    search_fields = ("experience__title", "experience__workspace__name", "membership__user__email")
    list_filter = (("experience__workspace", admin.RelatedOnlyFieldListFilter), "added_at")
    autocomplete_fields = ("experience",)

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="workspace", ordering="experience__workspace__name")
    def workspace(self, collaborator):
        return link(collaborator.experience.workspace)

    @admin.display(description="person", ordering="membership__user__email")
    def person(self, collaborator):
        return collaborator.membership.user.email

    def get_fields(self, request, obj=None):
        return ("experience", "person") if obj is None else ("experience", "person", "added_by", "added_at")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = collaborator_add(actor=None, experience=data["experience"], membership=data["membership"])
        obj.pk, obj.membership = created.pk, data["membership"]
        obj._state.adding = False

    def delete_model(self, request, obj):
        collaborator_remove(actor=None, experience=obj.experience, membership=obj.membership)


class ViewerGroupMemberInline(ReadOnlyInline):
    model = ViewerGroupMember
    fields = ("email",)
    show_change_link = False


@admin.register(ViewerGroup)
class ViewerGroupAdmin(ReadOnlyAdmin):
    """Read-only: viewer groups are edited by the workspace's members on the experience pages."""

    list_display = ("name", "workspace", "member_count", "created_at")
    list_select_related = ("workspace",)
    search_fields = ("name", "workspace__name", "members__email")
    list_filter = (("workspace", admin.RelatedOnlyFieldListFilter), "created_at")
    inlines = (ViewerGroupMemberInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=count_of(ViewerGroupMember, "group"))

    @admin.display(description="viewers", ordering="member_total")
    def member_count(self, group):
        return group.member_total
