"""Account pages: sign-up, address verification, profile, and Django's auth views with our settings."""

from __future__ import annotations

from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import FormView

from . import services
from .emails import absolute_url
from .forms import LoginForm, PasswordChangeForm, ProfileForm, SetPasswordForm, SignupForm
from .tokens import VerificationLinkError, VerificationLinkExpired, read_verification_token


@method_decorator(login_not_required, name="dispatch")
class SignupView(FormView):
    template_name = "accounts/signup.html"
    form_class = SignupForm
    success_url = reverse_lazy("home")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect(self.success_url)
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            user = services.account_signup(email=data["email"], full_name=data["full_name"], password=data["password"])
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        login(self.request, user, backend="accounts.backends.EmailBackend")
        messages.success(self.request, f"Welcome! We sent a link to {user.email}: open it to verify your address.")
        return super().form_valid(form)


@login_not_required
@require_GET
def verify(request, token):
    """Opening the link verifies the address it was sent to, for whoever opens it: possession of
    the link is the proof, so no sign-in is needed and nobody is signed in by it."""
    try:
        user = read_verification_token(token)
    except VerificationLinkExpired:
        return _verify_page(request, "expired", token=token, status=400)
    except VerificationLinkError:
        return _verify_page(request, "invalid", status=400)
    state = "verified" if services.email_verify(user) else "already"
    return _verify_page(request, state, address=user.email)


def _verify_page(request, state: str, *, status: int = 200, **context):
    return render(request, "accounts/verify.html", {"state": state, **context}, status=status)


@login_not_required
@require_POST
def resend_verification(request):
    """A fresh link for the signed-in person, or for the account an expired (but authentic) link
    names, so that someone whose link expired while signed out can still get a new one."""
    if request.user.is_authenticated:
        user = request.user
    else:
        try:
            user = read_verification_token(request.POST.get("token", ""), allow_expired=True)
        except VerificationLinkError:
            messages.error(request, "That link cannot be used to ask for a new one. Sign in to get a new link.")
            return redirect("accounts:login")
    if services.verification_resend(user=user):
        messages.success(request, f"We sent a new link to {user.email}.")
    else:
        messages.info(request, "Your e-mail address is already verified.")
    return redirect("accounts:profile" if request.user.is_authenticated else "accounts:login")


def profile(request):
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            try:
                services.profile_update(user=user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("accounts:profile")
    else:
        form = ProfileForm(initial={name: getattr(user, name) for name in services.PROFILE_FIELDS})
    return render(request, "accounts/profile.html", {"form": form})


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    email_template_name = "emails/accounts/password_reset.txt"
    html_email_template_name = "emails/accounts/password_reset.html"
    subject_template_name = "emails/accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        # The link's host comes from settings, never from the request's Host header.
        self.extra_email_context = {"base_url": absolute_url("")}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm  # saves through account_password_set: one audit event
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever proved they own the mailbox may sign in again at once, without waiting for a
        # lockout from failed attempts (perhaps someone else's) to cool off.
        axes_reset(username=self.user.email)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = PasswordChangeForm  # saves through account_password_set: one audit event
    success_url = reverse_lazy("accounts:password_change_done")
