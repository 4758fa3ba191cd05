"""Forms of the teams pages: a team's name, a member to add (named by e-mail address), a site grant.

Plain forms that only shape the input: ``teams.services`` and ``sites.services`` check the
capabilities and the rules. No form lists every member or every site of the workspace: a member is
named by address (one lookup), and the grant form offers the sites of the page's site search, at
most ``SITES_SHOWN``, while accepting any site of the workspace.
"""

from __future__ import annotations

from django import forms

from accounts.models import normalize_email
from workspaces.models import Site
from workspaces.sites.forms_access import GrantForm

SITES_SHOWN = 20  # sites offered by the grant form: those of the site search, or the first by name


class TeamForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, error_messages={"required": "Give the team a name."})
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class TeamMemberForm(forms.Form):
    """The member to add, by e-mail address; the view finds them in the workspace."""

    email = forms.CharField(
        label="Member's e-mail address",
        max_length=254,
        error_messages={"required": "Enter the e-mail address of a member of this workspace."},
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def address(self) -> str:
        """The address in its canonical form (as accounts store it)."""
        return normalize_email(self.cleaned_data["email"])


class TeamGrantForm(GrantForm):
    """On a team's page: which site, which role. ``sites`` are the sites to offer (the page's site
    search); any other site of the workspace is accepted too, so a choice made on an earlier search
    is kept, and another workspace's site is refused."""

    site = forms.ModelChoiceField(
        label="Site",
        queryset=Site.objects.none(),
        empty_label="Choose…",
        error_messages={"required": "Choose a site.", "invalid_choice": "Choose a site of this workspace."},
    )
    field_order = ["site", "role", "extra"]

    def __init__(self, *args, workspace, sites: list[Site] = (), **kwargs):
        super().__init__(*args, workspace=workspace, **kwargs)
        field = self.fields["site"]
        field.queryset = Site.objects.filter(workspace=workspace)
        # Drawn from the list the page already read, not from the queryset (every site).
        field.widget.choices = [("", "Choose…"), *((site.pk, site.name) for site in sites)]
