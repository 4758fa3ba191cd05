from django import forms

from .services import event_type_choices


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="URL", max_length=2000, help_text="Where events are POSTed: a public https:// address of your service."
    )
    description = forms.CharField(max_length=100, required=False, help_text="What listens there, for you.")
    all_events = forms.BooleanField(required=False, initial=True, label="Send every event")
    event_types = forms.MultipleChoiceField(
        required=False,
        choices=event_type_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="When not every event: only these.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="Enabled")

    def clean(self):
        data = super().clean()
        if not data.get("all_events") and not data.get("event_types"):
            raise forms.ValidationError("Choose the events to send, or send every event.")
        return data

    def chosen_types(self) -> list[str]:
        return [] if self.cleaned_data["all_events"] else self.cleaned_data["event_types"]
