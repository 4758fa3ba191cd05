"""Forms of the account pages. They check the shape of the input; the rules live in accounts.services."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import password_validators_help_text_html

from .models import User, normalize_email, time_zone_names
from .services import NOTIFICATION_FIELDS, account_password_set


class SignupForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    full_name = forms.CharField(
        label="Full name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password_again = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        password, again = cleaned.get("password"), cleaned.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", "The two passwords are not the same.")
        return cleaned


class LoginForm(auth_forms.AuthenticationForm):
    """Django's sign-in form, by e-mail address in any letter case."""

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": "That e-mail address and password do not match an account. Check them and try again.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "E-mail address"
        self.fields["username"].widget = forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})

    def clean_username(self):
        # Normalised (accounts.addresses) before authenticate(), so django-axes counts failures per
        # address, not per spelling: "A@x.test", "a@x.test" and "a@ｘ.test" share one failure count.
        return normalize_email(self.cleaned_data["username"])


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, finding the account by the canonical address (any spelling of it)."""

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def get_users(self, email):
        users = get_user_model()._default_manager.filter(email=normalize_email(email), is_active=True)
        return (user for user in users if user.has_usable_password())


def _time_zone_choices() -> list[tuple[str, str]]:
    return [("", "The workspace's time zone (UTC outside workspaces)"), *((name, name) for name in time_zone_names())]


class ProfileForm(forms.Form):
    full_name = forms.CharField(label="Full name", max_length=150, required=False)
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        choices=_time_zone_choices,
        help_text="Every time the portal shows you is in this zone, and says so.",
        error_messages={"invalid_choice": "Choose a time zone from the list."},
    )
    # The labels and help come from the model, so the admin and this page say the same.
    notify_workspace_changes = forms.BooleanField(required=False)
    notify_member_requests = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in NOTIFICATION_FIELDS:
            model_field = User._meta.get_field(name)
            self.fields[name].label = model_field.verbose_name.capitalize()
            self.fields[name].help_text = model_field.help_text


class EmailChangeForm(forms.Form):
    new_email = forms.EmailField(
        label="New e-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="We send a link there; your address changes when you open it.",
    )
    password = forms.CharField(
        label="Your current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form (old password, new one twice); saving goes through ``account_password_set``."""

    def save(self, commit=True):
        password = self.cleaned_data["new_password1"]
        self.user = account_password_set(actor=self.user, user=self.user, password=password, via="change")
        return self.user


class SetPasswordForm(auth_forms.SetPasswordForm):
    """The reset link's form (new password twice); the person who proved the mailbox is the actor."""

    def save(self, commit=True):
        password = self.cleaned_data["new_password1"]
        self.user = account_password_set(actor=self.user, user=self.user, password=password, via="reset")
        return self.user
