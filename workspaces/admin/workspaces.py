"""Workspaces in the admin: create with an owner, edit, delete, load a role preset, transfer
ownership, and see what the workspace holds (as links to filtered lists, so a big workspace's
page stays as quick as a small one's)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from audit.models import AuditEvent
from kernel.admin import (
    AUDIT_NOTE,
    ServiceAdmin,
    action_page,
    admin_url,
    apply_all,
    count_of,
    html_list,
    membership_of,
    person_field,
)
from permissions import presets
from permissions.models import AccessKey, Role
from workspaces.admin.object_permissions import ReadOnlyObjectPermissionsMixin
from workspaces.models import (
    Experience,
    Invite,
    JoinDomain,
    JoinRequest,
    Membership,
    Site,
    Team,
    ViewerGroup,
    Workspace,
)
from workspaces.overview.services import workspace_create, workspace_delete, workspace_update
from workspaces.people.services import ownership_transfer

WORKSPACE_FIELDS = ("name", "time_zone", "description")


class WorkspaceAddForm(forms.ModelForm):
    owner = person_field(
        "Owner", help_text="The workspace's first owner. Create their account first if they have none."
    )

    class Meta:
        model = Workspace
        fields = ("name", "owner", "time_zone", "description")

    def clean_owner(self):
        owner = self.cleaned_data["owner"]
        if not owner.is_active:
            raise forms.ValidationError(f"{owner.email}'s account is deactivated; it cannot own a workspace.")
        return owner


class PresetForm(forms.Form):
    preset = forms.ChoiceField(label="Preset", choices=())

    def __init__(self, *args, **kwargs):

        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [(name, f"{p.seed}: {p.title}") for name, p in presets.PRESETS.items()]


class TransferForm(forms.Form):
    new_owner = person_field("New owner", help_text="A member of the workspace; they become an Owner.")

    def __init__(self, *args, workspace: Workspace, **kwargs):
        self.workspace = workspace
        super().__init__(*args, **kwargs)

    def clean_new_owner(self):
        return membership_of(self.cleaned_data["new_owner"], self.workspace.pk, self.workspace.name)


@admin.register(Workspace)
class WorkspaceAdmin(ReadOnlyObjectPermissionsMixin, ServiceAdmin):
    list_display = ("name", "slug", "time_zone", "member_count", "site_count", "created_at")
    search_fields = ("name", "slug")
    list_filter = ("created_at", "time_zone")
    ordering = ("name",)
    readonly_fields = ("slug", "created_at", "contents")
    fields = ("name", "slug", "time_zone", "description", "created_at", "contents")
    add_fieldsets = ((None, {"fields": WorkspaceAddForm.Meta.fields}),)
    actions = ("load_role_preset", "transfer_ownership")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=count_of(Membership), site_total=count_of(Site))

    @admin.display(description="members", ordering="member_total")
    def member_count(self, obj):
        return obj.member_total

    @admin.display(description="sites", ordering="site_total")
    def site_count(self, obj):
        return obj.site_total

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = WorkspaceAddForm
        return super().get_form(request, obj, **kwargs)

    @admin.display(description="In this workspace")
    def contents(self, obj):
        counts = (
            Workspace.objects.filter(pk=obj.pk)
            .values(
                members_n=count_of(Membership),
                sites_n=count_of(Site),
                experiences_n=count_of(Experience),
                teams_n=count_of(Team),
                invites_n=count_of(Invite, status=Invite.Status.PENDING),
                domains_n=count_of(JoinDomain),
                requests_n=count_of(JoinRequest, status=JoinRequest.Status.PENDING),
                viewer_groups_n=count_of(ViewerGroup),
                roles_n=count_of(Role),
                keys_n=count_of(AccessKey),
            )
            .get()
        )
        here = {"workspace__id__exact": obj.pk}
        return html_list(
            [
                (f"{counts['members_n']} members", admin_url(Membership, **here)),
                (f"{counts['sites_n']} sites", admin_url(Site, **here)),
                (f"{counts['experiences_n']} experiences", admin_url(Experience, **here)),
                (f"{counts['teams_n']} teams", admin_url(Team, **here)),
                (f"{counts['invites_n']} pending invites", admin_url(Invite, **here, status__exact="pending")),
                (f"{counts['domains_n']} join domains", admin_url(JoinDomain, **here)),
                (
                    f"{counts['requests_n']} pending join requests",
                    admin_url(JoinRequest, **here, status__exact="pending"),
                ),
                (f"{counts['viewer_groups_n']} viewer groups", admin_url(ViewerGroup, **here)),
                (f"{counts['roles_n']} custom roles", admin_url(Role, **here)),
                (f"{counts['keys_n']} access keys", admin_url(AccessKey, **here)),
                ("Audit log", admin_url(AuditEvent, **here)),
                ("Object permissions (read-only)", admin_url(Workspace, "permissions", obj.pk)),
            ]
        )

    # --- writes ---

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = workspace_create(
                actor=request.user,
                creator=data["owner"],
                name=data["name"],
                time_zone=data["time_zone"],
                description=data["description"],
            )
            obj.pk, obj.slug, obj.created_at = created.pk, created.slug, created.created_at
            obj._state.adding = False
            return
        if set(form.changed_data) & set(WORKSPACE_FIELDS):
            workspace_update(
                actor=None, workspace=Workspace.objects.get(pk=obj.pk), **{f: data[f] for f in WORKSPACE_FIELDS}
            )

    def delete_model(self, request, obj):
        workspace_delete(actor=None, workspace=obj)

    def get_deleted_objects(self, objs, request):
        # Django's collector would list every guardian row of the workspace; a summary says more.
        summary = []
        for workspace in objs:
            summary.append(
                format_html(
                    "{} — with its {}",
                    workspace,
                    "members, sites, experiences, teams, invites, custom roles, access keys and "
                    "derived permissions (the audit log stays)",
                )
            )
        return summary, {"workspaces": len(summary)}, set(), []

    # --- actions ---

    @admin.action(description="Load a role preset")
    def load_role_preset(self, request, queryset):

        form = PresetForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            preset = form.cleaned_data["preset"]
            # Staff are not members: the system (actor=None) loads it, as manage.py load_role_preset does.
            done = apply_all(queryset, lambda ws: presets.load_preset(actor=None, workspace=ws, name=preset))
            for workspace in queryset:
                self.log_action(request, workspace, f"Loaded the role preset {preset}.")
            self.message_user(request, f"Loaded the preset “{preset}” into {done} workspace(s). {AUDIT_NOTE}")
            return None
        return action_page(
            self,
            request,
            queryset,
            form=form,
            title="Load a role preset",
            intro="The preset's custom roles are added to each workspace; loading twice changes nothing.",
            items=[str(ws) for ws in queryset],
            submit="Load preset",
        )

    @admin.action(description="Transfer ownership")
    def transfer_ownership(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one workspace to transfer.", level="error")
            return None
        workspace = queryset.get()
        form = TransferForm(request.POST if "apply" in request.POST else None, workspace=workspace)
        if form.is_bound and form.is_valid():
            membership = form.cleaned_data["new_owner"]
            ownership_transfer(actor=None, workspace=workspace, to=membership)
            self.log_action(request, workspace, f"Made {membership.user.email} an owner.")
            self.message_user(request, f"{membership.user.email} is now an owner of {workspace}. {AUDIT_NOTE}")
            return None
        return action_page(
            self,
            request,
            queryset,
            form=form,
            title="Transfer ownership",
            intro=(
                "The member becomes an Owner. The current owners stay owners: to step one down, change "
                "their role on the Memberships page afterwards."
            ),
            items=[str(workspace)],
            submit="Make owner",
        )
