"""Roles, role groups and access keys in the admin.

Built-in roles are data: visible, never changed or deleted. Custom roles are saved through
``permissions.services`` (rule 3: never ``manage_owners``; the pickers offer only the role's
scope). Access keys are listed and revoked, never created here, and their hash is never shown.
Guardian's object-permission rows are not registered: they are derived, and staff see them,
read-only, from the Workspace, Site and Experience pages ("Object permissions").
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from kernel.admin import AUDIT_NOTE, ReadOnlyAdmin, ServiceAdmin, apply_all, count_of
from workspaces.models import Membership

from . import catalog
from .keys import key_revoke
from .models import AccessKey, Role, RoleGroup
from .roles import role_codes
from .services import role_delete, role_save


def _choices(scope: str):
    return [
        (cap.codename, f"{cap.codename} — {cap.description}")
        for cap in catalog.BY_SCOPE[scope]
        if cap.codename not in catalog.OWNER_ONLY  # a custom role never holds these (docs/RULES.md 2.2)
    ]


class RoleForm(forms.ModelForm):
    capabilities = forms.MultipleChoiceField(
        choices=_choices(catalog.WORKSPACE),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Workspace roles: capabilities on the workspace. Full views add their limited siblings.",
    )
    site_capabilities = forms.MultipleChoiceField(
        label="Site capabilities",
        choices=_choices(catalog.SITE),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Site roles: the role's capabilities. Workspace roles: applied on every site of the workspace.",
    )

    class Meta:
        model = Role
        fields = ("workspace", "scope", "name", "key", "description")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "key" in self.fields:
            self.fields["key"].required = False
            self.fields["key"].help_text = "Leave empty to make one from the name."
        if not self.instance._state.adding:
            caps, site_caps = role_codes(self.instance)
            if self.instance.scope == catalog.SITE:
                caps, site_caps = frozenset(), caps
            self.initial.update(capabilities=sorted(caps), site_capabilities=sorted(site_caps))

    def clean(self):
        data = super().clean()
        scope = data.get("scope") or self.instance.scope
        if scope == catalog.SITE and data.get("capabilities"):
            self.add_error("capabilities", "A site role holds site capabilities only.")
        return data


@admin.register(Role)
class RoleAdmin(ServiceAdmin):
    form = RoleForm
    list_display = ("name", "key", "scope", "workspace", "builtin", "preset", "member_count")
    list_select_related = ("workspace",)
    search_fields = ("name", "key", "workspace__name", "workspace__slug", "preset")
    list_filter = ("builtin", "scope", "preset", ("workspace", admin.RelatedOnlyFieldListFilter))
    autocomplete_fields = ("workspace",)
    ordering = ("-builtin", "workspace__name", "scope", "position", "name")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_total=count_of(Membership, "role"))

    @admin.display(description="members", ordering="member_total")
    def member_count(self, role):
        return role.member_total

    @admin.display(description="capabilities")
    def capability_list(self, role):
        caps, site_caps = role_codes(role)
        text = ", ".join(sorted(caps)) or "—"
        if role.scope == catalog.WORKSPACE:
            text += f" | on every site: {', '.join(sorted(site_caps)) or '—'}"
        return text

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.builtin:
            return False  # built-in roles are data (docs/RULES.md 2.2)
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.builtin:
            return False
        return super().has_delete_permission(request, obj)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("workspace", "scope", "name", "key", "description", "capabilities", "site_capabilities")
        if obj.builtin:
            return ("name", "key", "scope", "description", "capability_list")
        pickers = ("capabilities", "site_capabilities") if obj.scope == catalog.WORKSPACE else ("site_capabilities",)
        return ("workspace", "scope", "key", "preset", "name", "description", *pickers)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.builtin:
            return ("name", "key", "scope", "description", "capability_list")
        return ("workspace", "scope", "key", "preset")

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        scope = obj.scope
        caps, site_caps = set(data.get("capabilities") or ()), set(data.get("site_capabilities") or ())
        if scope == catalog.SITE:
            caps, site_caps = site_caps, set()
        saved = role_save(
            actor=None,
            workspace=obj.workspace,
            scope=scope,
            name=data["name"],
            capabilities=caps,
            site_capabilities=site_caps,
            key="" if change else data.get("key", ""),
            description=data.get("description", ""),
            role=Role.objects.get(pk=obj.pk) if change else None,
        )
        obj.pk, obj.key = saved.pk, saved.key
        obj._state.adding = False

    def delete_model(self, request, obj):
        role_delete(actor=None, role=obj)


@admin.register(RoleGroup)
class RoleGroupAdmin(ReadOnlyAdmin):
    """The Django group carrying one workspace role in one workspace. Derived; read-only."""

    list_display = ("workspace", "role", "group")
    list_select_related = ("workspace", "role", "group")
    search_fields = ("workspace__name", "workspace__slug", "role__name", "group__name")
    list_filter = ("role__builtin", ("workspace", admin.RelatedOnlyFieldListFilter))


@admin.register(AccessKey)
class AccessKeyAdmin(ServiceAdmin):
    """Check-API keys. Created on the workspace's settings page or by ``manage.py
    create_access_key`` (shown once there); here only listed and revoked. ``key_hash`` never shows."""

    list_display = (
        "name",
        "prefix_shown",
        "workspace",
        "active",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_select_related = ("workspace", "created_by")
    search_fields = ("name", "prefix", "workspace__name", "workspace__slug", "created_by__email")
    list_filter = (
        ("revoked_at", admin.EmptyFieldListFilter),
        ("workspace", admin.RelatedOnlyFieldListFilter),
        "created_at",
    )
    fields = ("name", "prefix_shown", "workspace", "created_by", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the key's history stays in the audit log

    @admin.display(description="key starts with")
    def prefix_shown(self, key):
        return f"{key.prefix}…"

    @admin.display(description="active", boolean=True)
    def active(self, key):
        return key.is_active

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        done = apply_all(queryset.select_related("workspace"), lambda key: key_revoke(actor=None, key=key))
        for key in queryset:
            self.log_action(request, key, "Revoked the key.")
        self.message_user(request, f"Revoked {done} key(s): they no longer open the check API. {AUDIT_NOTE}")
