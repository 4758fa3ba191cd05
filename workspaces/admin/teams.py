"""Teams and their members in the admin, through the team services."""

from __future__ import annotations

from django.contrib import admin

from kernel.admin import (
    ParentForm,
    PersonLinkForm,
    ReadOnlyInline,
    ServiceAdmin,
    ServiceInline,
    count_of,
    link,
    membership_of,
    new_and_deleted,
    person_field,
)
from workspaces.models import SiteGrant, Team, TeamMembership
from workspaces.teams.services import team_add_member, team_create, team_delete, team_remove_member, team_update


class TeamMemberInlineForm(ParentForm):
    person = person_field(help_text="A member of the team's workspace.")

    class Meta:
        model = TeamMembership
        fields = ("person",)

    def clean(self):
        data = super().clean()
        if self.adding and data.get("person") is not None:
            data["membership"] = membership_of(data["person"], self.parent.workspace_id, self.parent.workspace.name)
        return data


class TeamMemberInline(ServiceInline):
    model = TeamMembership
    form = TeamMemberInlineForm
    fields = ("person", "added_at")
    readonly_fields = ("added_at",)
    verbose_name = "team member"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("membership__user")

    @admin.display(description="person")
    def person(self, link_row):
        return link_row.membership.user.email


class TeamGrantInline(ReadOnlyInline):
    model = SiteGrant
    fk_name = "team"
    fields = ("site", "role")
    verbose_name_plural = "Site grants (add or change them on the Site grants page)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("site", "role")


@admin.register(Team)
class TeamAdmin(ServiceAdmin):
    list_display = ("name", "workspace", "member_count", "grant_count", "created_at")
    list_select_related = ("workspace",)
    search_fields = ("name", "workspace__name", "workspace__slug")
    list_filter = (("workspace", admin.RelatedOnlyFieldListFilter), "created_at")
    autocomplete_fields = ("workspace",)
    inlines = (TeamMemberInline, TeamGrantInline)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(member_total=count_of(TeamMembership, "team"), grant_total=count_of(SiteGrant, "team"))
        )

    @admin.display(description="members", ordering="member_total")
    def member_count(self, team):
        return team.member_total

    @admin.display(description="site grants", ordering="grant_total")
    def grant_count(self, team):
        return team.grant_total

    def get_fields(self, request, obj=None):
        return (
            ("workspace", "name", "description") if obj is None else ("workspace", "name", "description", "created_at")
        )

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("workspace", "created_at")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            team_update(
                actor=None, team=Team.objects.get(pk=obj.pk), name=data["name"], description=data["description"]
            )
            return
        created = team_create(
            actor=None, workspace=data["workspace"], name=data["name"], description=data["description"]
        )
        obj.pk, obj.group_id = created.pk, created.group_id
        obj._state.adding = False

    def delete_model(self, request, obj):
        team_delete(actor=None, team=obj)

    def save_formset(self, request, form, formset, change):
        if formset.model is not TeamMembership:
            return super().save_formset(request, form, formset, change)
        new, deleted = new_and_deleted(formset)
        for link_row in deleted:
            team_remove_member(actor=None, team=formset.instance, membership=link_row.membership)
        for member_form in new:
            team_add_member(actor=None, team=formset.instance, membership=member_form.cleaned_data["membership"])


class TeamMembershipForm(PersonLinkForm):
    parent_field = "team"
    person = person_field(help_text="A member of the team's workspace.")

    class Meta:
        model = TeamMembership
        fields = ("team", "person")


@admin.register(TeamMembership)
class TeamMembershipAdmin(ServiceAdmin):
    """One person in one team. Added or removed, never changed."""

    form = TeamMembershipForm
    list_display = ("team", "workspace", "person", "added_at")
    list_select_related = ("team__workspace", "membership__user")
    search_fields = ("team__name", "team__workspace__name", "membership__user__email")
    list_filter = (("team__workspace", admin.RelatedOnlyFieldListFilter),)
    autocomplete_fields = ("team",)

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="workspace", ordering="team__workspace__name")
    def workspace(self, row):
        return link(row.team.workspace)

    @admin.display(description="person", ordering="membership__user__email")
    def person(self, row):
        return row.membership.user.email

    def get_fields(self, request, obj=None):
        return ("team", "person") if obj is None else ("team", "person", "added_at")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = team_add_member(actor=None, team=data["team"], membership=data["membership"])
        obj.pk, obj.membership = created.pk, data["membership"]
        obj._state.adding = False

    def delete_model(self, request, obj):
        team_remove_member(actor=None, team=obj.team, membership=obj.membership)
