"""Accounts in the admin: the e-mail user model, and the groups that carry derived permissions.

Deactivation (the action and the "active" checkbox) goes through
``workspaces.services.deactivation``, which refuses to deactivate the last active owner of a
workspace (PRODUCT.md rule 1). Other account changes are recorded in the audit log with the staff
member as actor (an account belongs to no workspace, so no membership check applies).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.html import format_html_join

from audit.services import record
from workspaces.admin.base import ReadOnlyAdmin, ReadOnlyInline, ServiceAdmin, apply_all, count_of
from workspaces.errors import RuleViolation
from workspaces.locks import lock_accounts
from workspaces.models import Membership
from workspaces.services.deactivation import account_deactivate, account_reactivate

from .models import User, normalize_email

PROFILE_FIELDS = (
    "email",
    "full_name",
    "email_verified_at",
    "is_staff",
    "is_superuser",
    "notify_product_updates",
    "notify_weekly_digest",
    "notify_alerts",
    "notify_workspace_changes",
)


def _email_taken(email: str, *, excluding: User | None = None) -> bool:
    others = User.objects.filter(email__iexact=normalize_email(email))
    if excluding is not None:
        others = others.exclude(pk=excluding.pk)
    return others.exists()


class UserAddForm(AdminUserCreationForm):
    """E-mail and password twice (or no password: the person sets one through the reset e-mail)."""

    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        if _email_taken(email):
            raise forms.ValidationError("An account with this e-mail address already exists.")
        return email


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = ("password", *PROFILE_FIELDS, "is_active", "user_permissions")

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        if _email_taken(email, excluding=self.instance):
            raise forms.ValidationError("Another account has this e-mail address.")
        return email


class MembershipInline(ReadOnlyInline):
    """The person's workspaces; roles change on the membership's own page (through the services)."""

    model = Membership
    fk_name = "user"
    fields = ("workspace", "role", "joined_at")
    verbose_name_plural = "Workspaces (open a membership to change its role or remove it)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("workspace", "role")


def _permission_names(user: User) -> list[str]:
    rows = user.user_permissions.values_list("content_type__app_label", "codename")
    return sorted(f"{app_label}.{codename}" for app_label, codename in rows)


@admin.register(User)
class UserAdmin(ServiceAdmin, BaseUserAdmin):
    form = UserEditForm
    add_form = UserAddForm
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
            {"fields": ("notify_product_updates", "notify_weekly_digest", "notify_alerts", "notify_workspace_changes")},
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
        if not change:
            obj.save()
            record(
                action="account.create",
                actor=request.user,
                target=obj,
                after={"email": obj.email, "is_staff": obj.is_staff, "usable_password": obj.has_usable_password()},
            )
            return
        changed = [name for name in form.changed_data if name in PROFILE_FIELDS]
        wants_active = obj.is_active
        original = User.objects.get(pk=obj.pk)
        # Kept on the form (one per request), for save_related's audit event.
        form.audit_before = {name: getattr(original, name) for name in changed}
        form.audit_before_permissions = _permission_names(original)
        obj.is_active = original.is_active  # only the deactivation services change it
        if changed:
            obj.save(update_fields=changed)
        if wants_active != original.is_active:
            toggle = account_reactivate if wants_active else account_deactivate
            toggle(actor=request.user, user=obj)
            obj.is_active = wants_active

    def save_related(self, request, form, formsets, change):
        form.save_m2m()  # user_permissions: staff rights in the admin, no workspace rule applies
        super().save_related(request, form, formsets, change)
        if not change:
            return
        obj = form.instance
        before = dict(form.audit_before)
        after = {name: getattr(obj, name) for name in before}
        if "user_permissions" in form.changed_data:
            before["user_permissions"] = form.audit_before_permissions
            after["user_permissions"] = _permission_names(obj)
        if before != after:
            record(action="account.update", actor=request.user, target=obj, before=before, after=after)

    def user_change_password(self, request, id, form_url=""):
        # Audit a password set by staff (the hash itself never goes into the log).
        with transaction.atomic():
            before = User.objects.filter(pk=id).values_list("password", flat=True).first()
            response = super().user_change_password(request, id, form_url)
            user = User.objects.filter(pk=id).first()
            if request.method == "POST" and user is not None and user.password != before:
                record(
                    action="account.password_set",
                    actor=request.user,
                    target=user,
                    after={"email": user.email, "usable_password": user.has_usable_password()},
                )
        return response

    def delete_model(self, request, obj):
        # The account's lock first (workspaces.locks): a joining at the same moment (which takes
        # the same lock) either comes first and is seen here, or waits and finds no account.
        with transaction.atomic():
            self._delete_account(request, obj)

    def _delete_account(self, request, obj):
        lock_accounts([obj.pk])
        workspaces = list(Membership.objects.filter(user=obj).select_related("workspace"))
        if workspaces:
            names = ", ".join(f"“{m.workspace.name}”" for m in workspaces)
            raise RuleViolation(
                f"{obj.email} is a member of {names}: remove them from those workspaces first, "
                "or deactivate the account instead."
            )
        record(action="account.delete", actor=request.user, target=obj, before={"email": obj.email})
        obj.delete()

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
