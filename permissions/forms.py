"""Forms of the roles pages: the custom-role editor and the preset loader."""

from __future__ import annotations

from django import forms

from . import catalog
from .models import Role
from .roles import builtin_role_by_id


def _choices(scope: str) -> list[tuple[str, str]]:
    # Owner-only capabilities are not offered: a custom role never carries them (docs/RULES.md 2.2).
    return [(cap.codename, cap.label) for cap in catalog.BY_SCOPE[scope] if cap.codename not in catalog.OWNER_ONLY]


class RoleForm(forms.Form):
    """Name, scope and a matrix of capabilities.

    One set of site checkboxes serves both scopes: for a workspace role they are its capabilities
    "on every site", for a site role they are the role itself. The service validates everything
    again (rule 3, implied siblings, scopes); this form only shapes the input.
    """

    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    scope = forms.ChoiceField(
        choices=Role.SCOPE_CHOICES,
        widget=forms.RadioSelect,
        initial=catalog.WORKSPACE,
        help_text="A workspace role is what every member has; a site role is given on one site by a site grant.",
    )
    workspace_capabilities = forms.MultipleChoiceField(
        choices=_choices(catalog.WORKSPACE), required=False, widget=forms.CheckboxSelectMultiple
    )
    site_capabilities = forms.MultipleChoiceField(
        choices=_choices(catalog.SITE), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, role: Role | None = None, **kwargs):
        self.role = role
        if role is not None:
            kwargs["initial"] = {**self.initial_for(role), **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        if role is not None:
            # A role's scope is fixed once it exists: its holders' grants or memberships depend on it.
            self.fields["scope"].disabled = True

    @staticmethod
    def initial_for(role: Role) -> dict:
        caps = {p.codename for p in role.permissions.all()}
        site_caps = {p.codename for p in role.site_permissions.all()}
        if role.scope == catalog.SITE:
            caps, site_caps = set(), caps
        return {
            "name": role.name,
            "description": role.description,
            "scope": role.scope,
            "workspace_capabilities": sorted(caps),
            "site_capabilities": sorted(site_caps),
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == catalog.SITE and cleaned.get("workspace_capabilities"):
            self.add_error(
                "workspace_capabilities", "A site role holds site capabilities only; untick the workspace ones."
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
        """The checkboxes grouped by catalog area, with their current state, for the template."""
        sections = []
        for field_name, scope, legend in (
            ("workspace_capabilities", catalog.WORKSPACE, "Workspace capabilities"),
            ("site_capabilities", catalog.SITE, "Site capabilities"),
        ):
            bound = self[field_name]
            ticked = set(bound.value() or ())
            offered = {code for code, _ in self.fields[field_name].choices}
            areas = [
                (
                    area,
                    [
                        {"cap": cap, "checked": cap.codename in ticked, "id": f"id_{field_name}_{cap.codename}"}
                        for cap in caps
                        if cap.codename in offered
                    ],
                )
                for area, caps in catalog.areas(scope)
            ]
            sections.append(
                {"name": field_name, "legend": legend, "areas": [a for a in areas if a[1]], "errors": bound.errors}
            )
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

    def to_python(self, value):
        if isinstance(value, str | int) and str(value).isascii() and str(value).isdigit():
            role = builtin_role_by_id(int(value))
            if role is not None and role.scope == self.scope:
                return role
        return super().to_python(value)
