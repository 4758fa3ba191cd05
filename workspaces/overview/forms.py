"""Forms of the workspace, site and experience pages.

Plain forms, not ModelForms: a ModelForm writes the cleaned values onto its instance while
validating, and every write here must go through a service (which compares before and after for
the audit log). The forms only check the input; the services check the rules.
"""

from __future__ import annotations

from django import forms

from workspaces.models import TIME_ZONE_CHOICES, Experience, Site, ViewerGroup


def _time_zone_field(help_text: str) -> forms.ChoiceField:
    return forms.ChoiceField(label="Time zone", choices=TIME_ZONE_CHOICES, initial="UTC", help_text=help_text)


class WorkspaceForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="Your company or team, as your colleagues know it.",
        error_messages={"required": "Give the workspace a name."},
    )
    time_zone = _time_zone_field("Reports and e-mails use this time zone.")
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class SiteForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, error_messages={"required": "Give the site a name."})
    url = forms.URLField(
        label="Address",
        required=False,
        assume_scheme="https",
        help_text="The web address of the site, e.g. https://shop.example.com.",
    )
    time_zone = _time_zone_field("The site's reports use this time zone.")

    @classmethod
    def initial_from(cls, site: Site) -> dict:
        return {"name": site.name, "url": site.url, "time_zone": site.time_zone}


class SessionCaptureForm(forms.Form):
    enabled = forms.ChoiceField(choices=[("on", "On"), ("off", "Off")])

    @property
    def turn_on(self) -> bool:
        return self.cleaned_data["enabled"] == "on"


class ExperienceForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200, error_messages={"required": "Give the experience a title."})
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    site = forms.ModelChoiceField(
        label="Site",
        queryset=Site.objects.none(),
        required=False,
        empty_label="No site",
        help_text="Only sites you can see are listed.",
    )

    def __init__(self, *args, sites, offered: list[tuple[str, str]] | None = None, keep: Site | None = None, **kwargs):
        """``sites``: those the experience may be linked to (a posted site is looked up there, one
        query); ``offered``: the (id, name) pairs the field lists (a site picker's matches, never
        every site), to which ``keep`` (the current site) is added."""
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        if offered is not None:
            if keep is not None and str(keep.pk) not in {value for value, _ in offered}:
                offered = [(str(keep.pk), keep.name), *offered]
            self.fields["site"].widget.choices = [("", "No site"), *offered]

    def clean_site(self):
        """The chosen site stays listed when the form comes back with an error."""
        site = self.cleaned_data["site"]
        widget = self.fields["site"].widget
        if site is not None and str(site.pk) not in {str(value) for value, _ in widget.choices}:
            widget.choices = [*widget.choices, (str(site.pk), site.name)]
        return site

    @classmethod
    def initial_from(cls, experience: Experience) -> dict:
        return {"title": experience.title, "description": experience.description, "site": experience.site_id}


class PublishForm(forms.Form):
    visibility = forms.ChoiceField(
        label="Who may open it", choices=Experience.Visibility.choices, widget=forms.RadioSelect
    )
    viewer_groups = forms.ModelMultipleChoiceField(
        label="Viewer groups",
        queryset=ViewerGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="A restricted experience opens only for people in one of these groups.",
    )

    def __init__(self, *args, viewer_groups, shown_groups: list[ViewerGroup], **kwargs):
        """``viewer_groups``: the groups a POST may name (the workspace's, checked in one query);
        ``shown_groups``: the boxes drawn (those chosen and a search's first matches), never all."""
        super().__init__(*args, **kwargs)
        field = self.fields["viewer_groups"]
        field.queryset = viewer_groups
        field.widget.choices = [(group.pk, group.name) for group in shown_groups]


class TypedConfirmationForm(forms.Form):
    """A destructive change asks the person to type the name of what it destroys: a slip of the
    mouse cannot do it, and the page says exactly what will go. Compared exactly (spaces at the
    ends aside), as it is shown."""

    confirmation = forms.CharField(max_length=200, error_messages={"required": "Type the name to confirm."})

    def __init__(self, *args, expected: str, what: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.fields["confirmation"].label = f"Type “{expected}” to confirm"
        self.fields["confirmation"].widget.attrs.update(autocomplete="off", spellcheck="false")
        self.what = what

    def clean_confirmation(self) -> str:
        typed = self.cleaned_data["confirmation"].strip()
        if typed != self.expected.strip():
            raise forms.ValidationError(f"That is not the name of {self.what}; nothing was changed.")
        return typed
