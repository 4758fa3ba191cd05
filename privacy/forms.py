"""The data request form. It checks the input and offers only what the person may use: the kinds
they hold the capability for, the sites they can see. The service checks both again."""

from __future__ import annotations

from django import forms

from .models import DataRequest
from .services import NOTE_MAX, SUBJECT_MAX


class DataRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label="Request", widget=forms.RadioSelect, error_messages={"required": "Choose a request."}
    )
    site = forms.ModelChoiceField(
        label="Site",
        queryset=None,
        help_text="Only sites you can see are listed.",
        error_messages={"required": "Choose the site.", "invalid_choice": "Choose one of the sites listed."},
    )
    subject = forms.CharField(
        label="Tracked person",
        max_length=SUBJECT_MAX,
        help_text="Their id or e-mail address, as the site records it.",
        error_messages={"required": "Name the tracked person: their id or e-mail address on the site."},
    )
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=NOTE_MAX, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, kinds: list[str], sites, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(DataRequest.Kind.choices)
        self.fields["kind"].choices = [(kind, labels[kind]) for kind in kinds]
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0]
        self.fields["site"].queryset = sites
