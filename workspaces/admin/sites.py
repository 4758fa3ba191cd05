"""Sites and site grants in the admin, through the site services (rule 2: one owner, a member)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Q

from kernel.admin import (
    ParentForm,
    ServiceAdmin,
    ServiceInline,
    count_of,
    link,
    membership_of,
    new_and_deleted,
    person_field,
)
from permissions import catalog
from permissions.models import Role
from permissions.roles import codename_of
from workspaces.admin.object_permissions import ReadOnlyObjectPermissionsMixin
from workspaces.models import Site, SiteGrant, Team
from workspaces.sites.services import (
    SITE_FIELDS,
    site_create,
    site_delete,
    site_grant_revoke,
    site_grant_set,
    site_owner_set,
    site_set_session_capture,
    site_update,
)

SITE_CAPABILITY_CHOICES = [(cap.codename, f"{cap.codename} — {cap.description}") for cap in catalog.SITE_CAPABILITIES]


class SiteRoleField(forms.ModelChoiceField):
    def label_from_instance(self, role):
        return role.name if role.builtin else f"{role.name} (custom, {role.workspace})"


def site_roles(workspace_id=None):
    custom = Q(workspace_id=workspace_id) if workspace_id is not None else Q(workspace__isnull=False)
    return (
        Role.objects.filter(scope=catalog.SITE)
        .filter(Q(workspace__isnull=True) | custom)
        .select_related("workspace")
        .order_by("-builtin", "position", "name")
    )


def extra_codes(grant: SiteGrant) -> list[str]:
    # .all() so a prefetch on the list or the inline serves it.
    return sorted(codename_of(permission.pk) for permission in grant.extra_permissions.all())


# --- sites ---------------------------------------------------------------------------------------


class SiteForm(forms.ModelForm):
    url = forms.URLField(label="Address", required=False, assume_scheme="https")
    owner_person = person_field("Owner", help_text="The site's contract owner: a member of its workspace.")

    class Meta:
        model = Site
        fields = ("workspace", "name", "slug", "url", "time_zone", "session_capture")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = "Leave empty to make one from the name."
        if not self.instance._state.adding:
            self.initial["owner_person"] = self.instance.owner.user_id

    def clean(self):
        data = super().clean()
        workspace = data.get("workspace") or getattr(self.instance, "workspace", None)
        if data.get("owner_person") is not None and workspace is not None:
            try:
                data["owner"] = membership_of(data["owner_person"], workspace.pk, workspace.name)
            except forms.ValidationError as exc:
                self.add_error("owner_person", exc)
        return data


class SiteGrantInlineForm(ParentForm):
    person = person_field(required=False, help_text="A member, or choose a team instead.")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    role = SiteRoleField(queryset=Role.objects.none())
    # A compact list here (a row of the inline); the grant's own page has checkboxes.
    extras = forms.MultipleChoiceField(
        label="Extra capabilities",
        choices=[(code, code) for code, _label in SITE_CAPABILITY_CHOICES],
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = SiteGrant
        fields = ("person", "team", "role", "extras")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        workspace_id = self.parent.workspace_id if self.parent is not None else None
        self.fields["role"].queryset = site_roles(workspace_id)
        self.fields["team"].queryset = Team.objects.filter(workspace_id=workspace_id)

    def clean(self):
        data = super().clean()
        if not self.adding or not self.has_changed():
            return data
        person, team = data.get("person"), data.get("team")
        if (person is None) == (team is None):
            raise forms.ValidationError("Choose either a member or a team.")
        if person is not None:
            data["membership"] = membership_of(person, self.parent.workspace_id, self.parent.workspace.name)
        return data

    def validate_unique(self):
        pass  # the service updates an existing grant instead of refusing a second one


class SiteGrantInline(ServiceInline):
    model = SiteGrant
    form = SiteGrantInlineForm
    fields = ("person", "team", "role", "extras")
    verbose_name_plural = "Site grants (change a grant's role on its own page)"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.select_related("membership__user", "team", "role").prefetch_related("extra_permissions")

    # Shown for existing rows, which are read-only.
    @admin.display(description="person")
    def person(self, grant):
        return grant.membership.user.email if grant.membership_id else "—"

    @admin.display(description="extra capabilities")
    def extras(self, grant):
        return ", ".join(extra_codes(grant)) or "—"


@admin.register(Site)
class SiteAdmin(ReadOnlyObjectPermissionsMixin, ServiceAdmin):
    form = SiteForm
    list_display = ("name", "slug", "workspace", "owner_email", "session_capture", "grant_count", "created_at")
    list_select_related = ("workspace", "owner__user")
    search_fields = ("name", "slug", "url", "workspace__name", "owner__user__email")
    list_filter = ("session_capture", ("workspace", admin.RelatedOnlyFieldListFilter), "created_at")
    autocomplete_fields = ("workspace",)
    inlines = (SiteGrantInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(grant_total=count_of(SiteGrant, "site"))

    @admin.display(description="owner", ordering="owner__user__email")
    def owner_email(self, obj):
        return obj.owner.user.email

    @admin.display(description="grants", ordering="grant_total")
    def grant_count(self, obj):
        return obj.grant_total

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("workspace", "name", "slug", "url", "time_zone", "owner_person")
        return ("workspace", "name", "slug", "url", "time_zone", "owner_person", "session_capture", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("workspace", "slug", "created_at")

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    # --- writes ---

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = site_create(
                actor=None,
                workspace=data["workspace"],
                name=data["name"],
                url=data["url"],
                time_zone=data["time_zone"],
                slug=data["slug"],
                owner=data["owner"],
            )
            obj.pk, obj.slug, obj.owner = created.pk, created.slug, created.owner
            obj._state.adding = False
            return
        site = Site.objects.select_related("workspace", "owner__user").get(pk=obj.pk)
        changes = {name: data[name] for name in SITE_FIELDS if name in form.changed_data}
        if changes:
            site = site_update(actor=None, site=site, **changes)
        if "owner_person" in form.changed_data:
            site = site_owner_set(actor=None, site=site, owner=data["owner"])
        if "session_capture" in form.changed_data:
            site_set_session_capture(actor=None, site=site, enabled=data["session_capture"])

    def delete_model(self, request, obj):
        site_delete(actor=None, site=obj)

    def save_formset(self, request, form, formset, change):
        new, deleted = new_and_deleted(formset)
        for grant in deleted:
            site_grant_revoke(actor=None, grant=grant)
        for grant_form in new:
            data = grant_form.cleaned_data
            site_grant_set(
                actor=None,
                site=formset.instance,
                role=data["role"],
                membership=data.get("membership"),
                team=data.get("team"),
                extra=frozenset(data.get("extras") or ()),
            )


# --- site grants ---------------------------------------------------------------------------------


class SiteGrantForm(forms.ModelForm):
    person = person_field(required=False, help_text="A member of the site's workspace, or choose a team instead.")
    role = SiteRoleField(queryset=Role.objects.none())
    extras = forms.MultipleChoiceField(
        label="Extra capabilities", choices=SITE_CAPABILITY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = SiteGrant
        fields = ("site", "person", "team", "role", "extras")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adding = self.instance._state.adding
        self.fields["role"].queryset = site_roles(None if adding else self.instance.site.workspace_id)
        if not adding:
            self.initial["extras"] = extra_codes(self.instance)

    def clean(self):
        data = super().clean()
        if not self.instance._state.adding:
            return data
        person, team, site = data.get("person"), data.get("team"), data.get("site")
        if (person is None) == (team is None):
            raise forms.ValidationError("Choose either a member or a team.")
        if person is not None and site is not None:
            data["membership"] = membership_of(person, site.workspace_id, site.workspace.name)
        return data

    def validate_unique(self):
        pass  # the service updates an existing grant instead of refusing a second one


@admin.register(SiteGrant)
class SiteGrantAdmin(ServiceAdmin):
    form = SiteGrantForm
    list_display = ("site", "workspace", "grantee", "role", "extra_capabilities", "created_at")
    list_select_related = ("site__workspace", "membership__user", "team", "role")
    search_fields = ("site__name", "site__slug", "site__workspace__name", "membership__user__email", "team__name")
    list_filter = (("role", admin.RelatedOnlyFieldListFilter), ("site__workspace", admin.RelatedOnlyFieldListFilter))
    autocomplete_fields = ("site", "team")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("extra_permissions")

    @admin.display(description="workspace", ordering="site__workspace__name")
    def workspace(self, grant):
        return grant.site.workspace

    @admin.display(description="member or team")
    def grantee(self, grant):
        return grant.membership.user.email if grant.membership_id else f"team {grant.team.name}"

    @admin.display(description="extra capabilities")
    def extra_capabilities(self, grant):
        return ", ".join(extra_codes(grant)) or "—"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("site", "person", "team", "role", "extras")
        return ("site_link", "grantee", "role", "extras")

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else ("site_link", "grantee")

    @admin.display(description="site")
    def site_link(self, grant):
        return link(grant.site)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            grant = SiteGrant.objects.select_related("site__workspace", "membership", "team").get(pk=obj.pk)
            site, membership, team = grant.site, grant.membership, grant.team
        else:
            site, membership, team = data["site"], data.get("membership"), data.get("team")
        saved = site_grant_set(
            actor=None,
            site=site,
            role=data["role"],
            membership=membership,
            team=team,
            extra=frozenset(data.get("extras") or ()),
        )
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request, obj):
        site_grant_revoke(actor=None, grant=obj)
