"""Forms of the site access page, and the site grant form the teams pages
share (``GrantForm``).

Plain forms that only shape the input: the services (``services.teams``, ``services.sites``) check
the capabilities and the rules. Choices that list members or teams are built from lists the view
has already loaded, so one list serves several forms on a page without another query each.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from permissions import catalog
from permissions.forms import role_choice_label
from permissions.models import Role
from permissions.selectors import roles_of
from workspaces.models import Membership, Team
from workspaces.pickers.forms import PickedMemberField, grantee_from
from workspaces.pickers.selectors import workspace_members

SITE_CAPABILITY_CHOICES = [(cap.codename, cap.label) for cap in catalog.SITE_CAPABILITIES]


def site_roles_of(workspace) -> QuerySet[Role]:
    """The site roles a grant in ``workspace`` may name: the built-in ones, then its custom ones."""
    return roles_of(workspace, catalog.SITE)


def error_messages(form: forms.Form) -> list[str]:
    """Every error of a form as one sentence each, for pages that answer a POST with messages."""
    found = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        found += [f"{label}: {error}" if label else error for error in errors]
    return found


def require_valid(form: forms.Form) -> None:
    """Raise the form's errors as one ValidationError, so a page that answers a POST with
    messages handles bad input and a service's refusal (RuleViolation) in one place."""
    if not form.is_valid():
        raise ValidationError(error_messages(form))


class SiteRoleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, role: Role) -> str:
        return role_choice_label(role)


class GrantForm(forms.Form):
    """A site role and extra capabilities; subclasses add who or where."""

    role = SiteRoleChoiceField(
        label="Site role",
        queryset=Role.objects.none(),
        # No role is chosen for the person: the most powerful one must never be a slip away.
        empty_label="Choose…",
        error_messages={
            "required": "Choose a site role.",
            "invalid_choice": "Choose one of this workspace's site roles.",
        },
    )
    extra = forms.MultipleChoiceField(
        label="Extra capabilities",
        choices=SITE_CAPABILITY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=f"Given on top of the role, e.g. “{catalog.CAPABILITIES['tag_comments'].label}”.",
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = site_roles_of(workspace).prefetch_related(None)

    def extra_areas(self) -> list[tuple[str, list[dict]]]:
        """The extra-capability checkboxes grouped by catalog area, with their ticked state."""
        ticked = set(self["extra"].value() or ())
        prefix = f"{self.prefix}-" if self.prefix else ""
        return [
            (
                area,
                [
                    {"cap": cap, "checked": cap.codename in ticked, "id": f"id_{prefix}extra_{cap.codename}"}
                    for cap in caps
                ],
            )
            for area, caps in catalog.areas(catalog.SITE)
        ]

    def grant_arguments(self) -> dict:
        """``role`` and ``extra`` for ``site_grant_set``."""
        return {"role": self.cleaned_data["role"], "extra": set(self.cleaned_data["extra"])}


class SiteGrantForm(GrantForm):
    """On a site's access page: one member or one team, picked by the page's grantee picker
    (``m<id>`` or ``t<id>``, looked up in the workspace: one query)."""

    grantee = forms.CharField(
        label="Member or team",
        max_length=40,
        error_messages={"required": "Choose a member or a team of this workspace."},
    )
    field_order = ["grantee", "role", "extra"]

    def __init__(self, *args, workspace, givable, **kwargs):
        super().__init__(*args, workspace=workspace, **kwargs)
        self.workspace = workspace
        # Offer only the site roles the person may give on this site (rule 3, as the policy answers
        # it); any other stays valid input, so a forged choice reaches the service and its message.
        self.fields["role"].choices = [("", "Choose…"), *((role.pk, role_choice_label(role)) for role in givable)]

    def clean_grantee(self) -> Membership | Team:
        grantee = grantee_from(self.workspace, self.cleaned_data["grantee"])
        if grantee is None:
            raise ValidationError("Choose a member or a team of this workspace.")
        return grantee

    def grant_arguments(self) -> dict:
        grantee = self.cleaned_data["grantee"]
        key = "team" if isinstance(grantee, Team) else "membership"
        return {**super().grant_arguments(), key: grantee}


class SiteOwnerForm(forms.Form):
    """The site owner, picked by the page's member picker among the workspace's members."""

    owner = PickedMemberField(
        label="Site owner",
        help_text="The contract owner and contact person for the site. Being site owner adds no capability.",
        error_messages={
            "required": "Choose the member who owns the site.",
            "invalid_choice": "The site owner must be a member of this workspace.",
        },
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].candidates = workspace_members(workspace)

    @property
    def chosen_owner(self) -> Membership:
        return self.cleaned_data["owner"]
