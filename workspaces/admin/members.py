"""Memberships in the admin. Staff act as the system, yet rule 1 holds: the last owner can be
neither demoted nor removed, and a site owner is replaced before they go (rule 2)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.utils.html import format_html

from kernel.admin import AUDIT_NOTE, ServiceAdmin, action_page, admin_url, apply_all
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.models import Role
from workspaces.models import Membership, Site
from workspaces.people.services import member_add, member_change_role, member_remove


class RoleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, role):
        return role.name if role.builtin else f"{role.name} (custom, {role.workspace})"


def workspace_roles(workspace_ids=None):
    """Built-in workspace roles, then the custom workspace roles of the given workspaces."""
    custom = Q(workspace_id__in=workspace_ids) if workspace_ids is not None else Q(workspace__isnull=False)
    return (
        Role.objects.filter(scope=catalog.WORKSPACE)
        .filter(Q(workspace__isnull=True) | custom)
        .select_related("workspace")
        .order_by("-builtin", "position", "name")
    )


class MembershipForm(forms.ModelForm):
    role = RoleChoiceField(queryset=Role.objects.none())

    class Meta:
        model = Membership
        fields = ("workspace", "user", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        workspace_ids = None if self.instance._state.adding else [self.instance.workspace_id]
        self.fields["role"].queryset = workspace_roles(workspace_ids)

    def clean(self):
        data = super().clean()
        workspace, role = data.get("workspace") or self.instance.workspace, data.get("role")
        if role is not None and role.workspace_id not in (None, workspace.pk):
            self.add_error("role", f"“{role.name}” is a custom role of another workspace.")
        return data


class ChangeRoleForm(forms.Form):
    role = RoleChoiceField(
        queryset=Role.objects.none(), help_text="Custom roles fit members of their own workspace only."
    )

    def __init__(self, *args, workspace_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = workspace_roles(workspace_ids)


@admin.register(Membership)
class MembershipAdmin(ServiceAdmin):
    form = MembershipForm
    list_display = ("email", "workspace", "role", "joined_at", "invited_by")
    list_select_related = ("user", "workspace", "role", "invited_by")
    search_fields = ("user__email", "user__full_name", "workspace__name", "workspace__slug")
    list_filter = (
        ("role", admin.RelatedOnlyFieldListFilter),
        ("workspace", admin.RelatedOnlyFieldListFilter),
    )
    autocomplete_fields = ("workspace", "user")
    readonly_fields = ("joined_at", "invited_by", "owned_sites")
    actions = ("change_role",)

    @admin.display(description="person", ordering="user__email")
    def email(self, obj):
        return obj.user.email

    @admin.display(description="sites owned")
    def owned_sites(self, obj):
        count = obj.owned_sites.count()
        if not count:
            return "None"
        return format_html('<a href="{}">{} site(s)</a>', admin_url(Site, owner__id__exact=obj.pk), count)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("workspace", "user", *self.readonly_fields)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("workspace", "user", "role")
        return ("workspace", "user", "role", "joined_at", "invited_by", "owned_sites")

    # --- writes ---

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = member_add(workspace=data["workspace"], user=data["user"], role=data["role"], action="member.add")
            obj.pk, obj.joined_at = created.pk, created.joined_at
            obj._state.adding = False
        elif "role" in form.changed_data:
            member_change_role(actor=None, membership=Membership.objects.get(pk=obj.pk), role=data["role"])

    def delete_model(self, request, obj):
        member_remove(actor=None, membership=obj)

    def delete_view(self, request, object_id, extra_context=None):
        response = super().delete_view(request, object_id, extra_context)
        self._say_where_to_reassign(request, Site.objects.filter(owner_id=object_id))
        return response

    def delete_queryset(self, request, queryset):
        try:
            super().delete_queryset(request, queryset)
        except RuleViolation:
            self._say_where_to_reassign(request, Site.objects.filter(owner__in=queryset))
            raise

    def _say_where_to_reassign(self, request, owned_sites):
        """After a refusal because the member owns sites: where staff set another owner."""
        if request.method == "POST" and owned_sites.exists():
            ids = ",".join(str(pk) for pk in owned_sites.values_list("pk", flat=True))
            messages.info(
                request,
                format_html(
                    'Set another owner on each of <a href="{}">these sites</a> (Site → Owner), then remove the member.',
                    admin_url(Site, id__in=ids),
                ),
            )

    # --- actions ---

    @admin.action(description="Change role of selected members")
    def change_role(self, request, queryset):
        queryset = queryset.select_related("user", "workspace", "role")
        workspace_ids = set(queryset.values_list("workspace_id", flat=True))
        form = ChangeRoleForm(request.POST if "apply" in request.POST else None, workspace_ids=workspace_ids)
        if form.is_bound and form.is_valid():
            role = form.cleaned_data["role"]
            done = apply_all(queryset, lambda m: member_change_role(actor=None, membership=m, role=role))
            for membership in queryset:
                self.log_action(request, membership, f"Changed the role to {role.name}.")
            self.message_user(request, f"{done} member(s) now have the role {role.name}. {AUDIT_NOTE}")
            return None
        return action_page(
            self,
            request,
            queryset,
            form=form,
            title="Change role of selected members",
            intro="The new role takes effect at once. A workspace's last owner keeps the Owner role.",
            items=[f"{m.user.email} — {m.role.name} in {m.workspace}" for m in queryset],
            submit="Change role",
        )
