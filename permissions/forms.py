"""Forms of the roles pages: the custom-role editor and the preset loader."""

from __future__ import annotations

from django import forms
from django.utils.text import Truncator

from . import catalog
from .models import Role
from .presets import preset_title
from .roles import builtin_role_by_id

DESCRIPTION_IN_LABEL = 90  # characters of a role's description that a picker's option shows


def role_origin(role: Role) -> str:
    """Where a role comes from, when that is what tells two roles of one name apart: the preset
    that made it, or "custom"; nothing for a built-in role."""
    if role.builtin:
        return ""
    return f"preset {preset_title(role.preset)}" if role.preset else "custom"


def role_choice_label(role: Role) -> str:
    """How every role picker names a role: its name, its origin and what it is for, e.g.
    "Admin (preset Organization roles) — Manages people and settings"."""
    origin = role_origin(role)
    name = f"{role.name} ({origin})" if origin else role.name
    description = " ".join(role.description.split())
    if not description:
        return name
    return f"{name} — {Truncator(description).chars(DESCRIPTION_IN_LABEL)}"


def _choices(scope: str) -> list[tuple[str, str]]:
    # Owner-only capabilities are not offered: a custom role never carries them (docs/RULES.md 2.2).
    return [(cap.codename, cap.label) for cap in catalog.BY_SCOPE[scope] if cap.codename not in catalog.OWNER_ONLY]


# The editor's two checkbox fields and the scope of the capabilities each lists.
CAPABILITY_FIELDS = (("workspace_capabilities", catalog.WORKSPACE), ("site_capabilities", catalog.SITE))


def whole_area_field(field_name: str) -> str:
    """The name of the checkboxes that tick every capability of an area ("all of Billing")."""
    return f"all_{field_name}"


def with_whole_areas(data):
    """``data`` with every capability of each area whose "all of this area" box is ticked added to
    the area's field, so the boxes work without JavaScript. Owner-only capabilities are never
    added (a custom role never holds them)."""
    if data is None or not hasattr(data, "getlist"):
        return data
    data = data.copy()
    for field_name, scope in CAPABILITY_FIELDS:
        areas = set(data.getlist(whole_area_field(field_name)))
        if not areas:
            continue
        whole = [
            c.codename for c in catalog.BY_SCOPE[scope] if c.area in areas and c.codename not in catalog.OWNER_ONLY
        ]
        data.setlist(field_name, list(dict.fromkeys(data.getlist(field_name) + whole)))
    return data


class RoleForm(forms.Form):
    """Name, scope and a matrix of capabilities.

    One set of site checkboxes serves both scopes: for a workspace role they are its capabilities
    "on every site", for a site role they are the role itself. The scope is chosen before the
    capabilities (a link on the page, then a hidden field), so the page lists only the capabilities
    a role of that scope can hold; a site role posted with workspace capabilities is refused all
    the same. The service validates everything again (rule 3, implied siblings, scopes); this form
    only shapes the input.
    """

    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    scope = forms.ChoiceField(choices=Role.SCOPE_CHOICES, widget=forms.HiddenInput, initial=catalog.WORKSPACE)
    workspace_capabilities = forms.MultipleChoiceField(
        choices=_choices(catalog.WORKSPACE), required=False, widget=forms.CheckboxSelectMultiple
    )
    site_capabilities = forms.MultipleChoiceField(
        choices=_choices(catalog.SITE), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, data=None, *args, role: Role | None = None, scope: str | None = None, **kwargs):
        self.role = role
        if role is not None:
            kwargs["initial"] = {**self.initial_for(role), **(kwargs.get("initial") or {})}
        elif scope is not None:
            kwargs["initial"] = {"scope": scope, **(kwargs.get("initial") or {})}
        super().__init__(with_whole_areas(data), *args, **kwargs)
        if role is not None:
            # A role's scope is fixed once it exists: its holders' grants or memberships depend on it.
            self.fields["scope"].disabled = True

    @property
    def chosen_scope(self) -> str:
        """The scope the page is about: the role's, the posted one, or the one asked for."""
        if self.role is not None:
            return self.role.scope
        value = self["scope"].value()
        return value if value in (catalog.WORKSPACE, catalog.SITE) else catalog.WORKSPACE

    @staticmethod
    def initial_for(role: Role, *, held: tuple[frozenset, frozenset] | None = None) -> dict:
        """The form's values for ``role``; with ``held`` (what the person holds, as
        ``roles.role_codes``), only the capabilities among them are ticked."""
        caps = {p.codename for p in role.permissions.all()}
        site_caps = {p.codename for p in role.site_permissions.all()}
        if role.scope == catalog.SITE:
            caps, site_caps = set(), caps
        if held is not None:
            caps, site_caps = caps & held[0], site_caps & held[1]
        return {
            "name": role.name,
            "description": role.description,
            "scope": role.scope,
            "workspace_capabilities": sorted(caps - catalog.OWNER_ONLY),
            "site_capabilities": sorted(site_caps),
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == catalog.SITE and cleaned.get("workspace_capabilities"):
            # Not next to a checkbox: the page of a site role lists no workspace capabilities.
            self.add_error(
                None,
                "A site role holds site capabilities only, and workspace capabilities were sent: nothing was saved.",
            )
        return cleaned

    def service_arguments(self) -> dict:
        """The keyword arguments of ``permissions.services.role_save``."""
        data = self.cleaned_data
        site_caps = set(data["site_capabilities"])
        if data["scope"] == catalog.SITE:
            caps, site_caps = site_caps, set()
        else:
            caps = set(data["workspace_capabilities"])
        return {
            "scope": data["scope"],
            "name": data["name"],
            "description": data["description"],
            "capabilities": caps,
            "site_capabilities": site_caps,
        }

    def matrix(self) -> list[dict]:
        """The checkboxes of the chosen scope grouped by catalog area, with their current state and
        an "all of this area" box each, for the template. A site role has no workspace section."""
        legends = {
            "workspace_capabilities": "Workspace capabilities",
            "site_capabilities": "Site capabilities"
            if self.chosen_scope == catalog.SITE
            else "Site capabilities, on every site",
        }
        sections = []
        for field_name, scope in CAPABILITY_FIELDS:
            if self.chosen_scope == catalog.SITE and scope == catalog.WORKSPACE:
                continue
            bound = self[field_name]
            ticked = set(bound.value() or ())
            offered = {code for code, _ in self.fields[field_name].choices}
            areas = []
            for number, (area, caps) in enumerate(catalog.areas(scope)):
                items = [
                    {"cap": cap, "checked": cap.codename in ticked, "id": f"id_{field_name}_{cap.codename}"}
                    for cap in caps
                    if cap.codename in offered
                ]
                if items:
                    whole = {"name": whole_area_field(field_name), "id": f"id_all_{field_name}_{number}"}
                    areas.append({"name": area, "items": items, "whole": whole})
            sections.append({"name": field_name, "legend": legends[field_name], "areas": areas, "errors": bound.errors})
        return sections


class PresetForm(forms.Form):
    preset = forms.ChoiceField(label="Preset")

    def __init__(self, *args, presets: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preset"].choices = [(name, preset.title) for name, preset in presets.items()]


class RoleChoiceField(forms.ModelChoiceField):
    """A role picker of one scope whose built-in choices resolve without a query
    (``roles.builtin_role_by_id``: every built-in role of the scope is offered in every workspace);
    a custom role is looked up in the field's queryset, so another workspace's is refused."""

    def __init__(self, *, scope: str, **kwargs):
        self.scope = scope
        super().__init__(queryset=Role.objects.none(), **kwargs)

    def label_from_instance(self, role: Role) -> str:
        return role_choice_label(role)

    def to_python(self, value):
        if isinstance(value, str | int) and str(value).isascii() and str(value).isdigit():
            role = builtin_role_by_id(int(value))
            if role is not None and role.scope == self.scope:
                return role
        return super().to_python(value)
