"""Accounts in the admin: the e-mail user model, and the groups that carry derived permissions.

Every write goes through a service with the staff member as actor: adding, changing and deleting
an account and setting its password through ``accounts.services`` (account_create, account_update,
account_delete, account_password_set); deactivation (the action and the "active" checkbox) through
``workspaces.people.deactivation``, which refuses to deactivate the last active owner of a
workspace (docs/RULES.md, rule 1). An account belongs to no workspace, so no membership check applies.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.shortcuts import redirect
from django.utils.html import format_html_join

from audit.context import acting_staff, staff_acting
from kernel.admin import ReadOnlyAdmin, ReadOnlyInline, ServiceAdmin, apply_all, count_of, refuse
from kernel.errors import RuleViolation
from workspaces.models import Membership
from workspaces.people.deactivation import account_deactivate, account_reactivate

from .models import User
from .services import (
    NOTIFICATION_FIELDS,
    account_create,
    account_delete,
    account_password_set,
    account_update,
    clean_new_email,
)

PROFILE_FIELDS = (
    "email",
    "full_name",
    "email_verified_at",
    "is_staff",
    "is_superuser",
    *NOTIFICATION_FIELDS,
)


class UserAddForm(AdminUserCreationForm):
    """E-mail and password twice (or no password: the person sets one through the reset e-mail)."""

    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self):
        return clean_new_email(self.cleaned_data["email"])  # the service's rule, shown on the field


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("password", *PROFILE_FIELDS, "is_active", "user_permissions")

    def clean_email(self):
        return clean_new_email(self.cleaned_data["email"], excluding=self.instance)


class StaffPasswordForm(AdminPasswordChangeForm):
    """The admin's password page, saving through ``account_password_set`` as the staff member."""

    def save(self, commit=True):
        password = self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        # UserAdmin.user_change_password serves this form inside staff_acting(request.user).
        self.user = account_password_set(actor=acting_staff.get(), user=self.user, password=password, via="admin")
        return self.user


class MembershipInline(ReadOnlyInline):
    """The person's workspaces; roles change on the membership's own page (through the services)."""

    model = Membership
    fk_name = "user"
    fields = ("workspace", "role", "joined_at")
    verbose_name_plural = "Workspaces (open a membership to change its role or remove it)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("workspace", "role")


@admin.register(User)
class UserAdmin(ServiceAdmin, BaseUserAdmin):
    form = UserEditForm
    add_form = UserAddForm
    change_password_form = StaffPasswordForm
    list_display = (
        "email",
        "full_name",
        "is_active",
        "is_staff",
        "is_superuser",
        "verified",
        "workspace_count",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "date_joined")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")
    filter_horizontal = ("user_permissions",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "email_verified_at")}),
        (
            "Notifications",
            {"fields": NOTIFICATION_FIELDS},
        ),
        (
            "Access",
            {
                "fields": ("is_active", "is_staff", "is_superuser", "user_permissions"),
                "description": (
                    "Deactivating an account is refused while it is a workspace's last active owner. "
                    "Staff flags and permissions are for the admin only: workspace access comes from "
                    "memberships, below."
                ),
            },
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "usable_password", "password1", "password2")}),)
    inlines = (MembershipInline,)
    actions = ("deactivate_accounts", "reactivate_accounts")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(workspace_total=count_of(Membership, "user"))

    @admin.display(description="verified", boolean=True, ordering="email_verified_at")
    def verified(self, user):
        return user.email_verified_at is not None

    @admin.display(description="workspaces", ordering="workspace_total")
    def workspace_count(self, user):
        return user.workspace_total

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    # --- writes ---

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            password = data["password1"] if data.get("set_usable_password") else None
            created = account_create(actor=request.user, email=data["email"], password=password)
            obj.pk, obj.password, obj._state.adding = created.pk, created.password, False
            return
        changes = {name: data[name] for name in form.changed_data if name in PROFILE_FIELDS}
        permissions = data["user_permissions"] if "user_permissions" in form.changed_data else None
        account_update(actor=request.user, user=obj, changes=changes, permissions=permissions)
        wants_active = data.get("is_active", obj.is_active)
        if "is_active" in form.changed_data:
            toggle = account_reactivate if wants_active else account_deactivate
            toggle(actor=request.user, user=obj)

    def user_change_password(self, request, id, form_url=""):
        try:
            with staff_acting(request.user):
                return super().user_change_password(request, id, form_url)
        except RuleViolation as exc:
            refuse(request, exc)
            return redirect(request.get_full_path())

    def delete_model(self, request, obj):
        account_delete(actor=request.user, user=obj)

    # --- actions ---

    @admin.action(description="Deactivate selected accounts")
    def deactivate_accounts(self, request, queryset):
        done = apply_all(queryset, lambda user: account_deactivate(actor=request.user, user=user))
        for user in queryset:
            self.log_action(request, user, "Deactivated the account.")
        self.message_user(request, f"Deactivated {done} account(s).")

    @admin.action(description="Reactivate selected accounts")
    def reactivate_accounts(self, request, queryset):
        done = apply_all(queryset, lambda user: account_reactivate(actor=request.user, user=user))
        for user in queryset:
            self.log_action(request, user, "Reactivated the account.")
        self.message_user(request, f"Reactivated {done} account(s).")


# --- groups --------------------------------------------------------------------------------------

admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin):
    """Read-only. Every group carries one workspace role or one team; the services keep their
    members and ``sync_permissions`` their object permissions."""

    list_display = ("name", "carries", "workspace")
    list_select_related = ("role_group__role", "role_group__workspace", "team__workspace")
    search_fields = ("name", "role_group__workspace__name", "team__name", "team__workspace__name")
    fields = ("name", "carries", "workspace", "members")

    @admin.display(description="carries")
    def carries(self, group):
        role_group = getattr(group, "role_group", None)
        if role_group is not None:
            return f"workspace role {role_group.role.name}"
        team = getattr(group, "team", None)
        return f"team {team.name}" if team is not None else "—"

    @admin.display(description="workspace")
    def workspace(self, group):
        holder = getattr(group, "role_group", None) or getattr(group, "team", None)
        return holder.workspace if holder is not None else "—"

    @admin.display(description="members")
    def members(self, group):
        return (
            format_html_join(", ", "{}", ((email,) for email in group.user_set.values_list("email", flat=True))) or "—"
        )
