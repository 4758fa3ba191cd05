"""Account pages: sign-up, address verification, profile, and Django's auth views with our settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from axes.utils import reset as axes_reset
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import FormView

from kernel.client_ip import client_ip
from kernel.next_url import return_to, with_next
from workspaces.selectors import sole_workspace_of

from . import emails, selectors, services
from .forms import (
    EmailChangeForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    ProfileForm,
    SetPasswordForm,
    SignupForm,
)
from .models import normalize_email
from .signals import sign_in_realm
from .throttle import Throttled
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

    def get_context_data(self, **kwargs):
        # A ``next`` (the page the person came from, a path of this site) is kept through to sign-in.
        return super().get_context_data(next=return_to(self.request), **kwargs)

    def form_valid(self, form):
        """The same answer whether the address has an account or not (``services.signup_request``):
        a message naming the address, and the sign-in page. Nobody is signed in here."""
        data = form.cleaned_data
        try:
            address = services.signup_request(
                email=data["email"],
                full_name=data["full_name"],
                password=data["password"],
                client_ip=client_ip(self.request),
            )
        except Throttled as exc:
            form.add_error(None, exc)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"We sent a link to {address}: open it to verify your address, then sign in here. "
            "No mail? Check the address and your spam folder.",
        )
        return redirect(with_next("accounts:login", return_to(self.request)))


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
    verification = services.email_verify_and_follow(user)
    state = "verified" if verification.verified_now else "already"
    # What the address led to (a workspace joined by its domain, a join request filed) is told here.
    return _verify_page(request, state, address=user.email, followed=verification.followed)


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


def _profile_page(request, *, form=None, email_form=None, status=200):
    user = request.user
    form = form or ProfileForm(initial={name: getattr(user, name) for name in services.PROFILE_FIELDS})
    context = {
        "form": form,
        "email_form": email_form or EmailChangeForm(),
        "pending_email_change": selectors.email_change_waiting(user),
    }
    return render(request, "accounts/profile.html", context, status=status)


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
        return _profile_page(request, form=form)
    return _profile_page(request)


@require_POST
def email_change(request):
    """Ask for a new address: the link goes to that address; nothing changes until it is opened."""
    form = EmailChangeForm(request.POST)
    if form.is_valid():
        try:
            change = services.email_change_request(
                user=request.user,
                new_email=form.cleaned_data["new_email"],
                password=form.cleaned_data["password"],
                client_ip=client_ip(request),
            )
        except Throttled as exc:
            form.add_error(None, exc)
            return _profile_page(request, email_form=form, status=429)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"We sent a link to {change.new_email}. Open it to make it your address; until then "
                f"{request.user.email} stays your address.",
            )
            return redirect("accounts:profile")
    return _profile_page(request, email_form=form)


def email_change_confirm(request, token):
    """The link from the new address. Opening it changes nothing (mail scanners follow links); the
    button posts. Only the account that asked can use it (sign in first: the middleware asks)."""
    change = selectors.email_change_pending(token)
    if change is None or change.user_id != request.user.pk:
        return render(request, "accounts/email_change_confirm.html", {"state": "invalid"}, status=404)
    if request.method == "POST":
        try:
            services.email_change_confirm(user=request.user, token=token)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("accounts:profile")
        messages.success(request, f"Your e-mail address is now {change.new_email}. Sign in with it from now on.")
        return redirect("accounts:profile")
    state = "expired" if change.is_expired else "ready"
    return render(request, "accounts/email_change_confirm.html", {"state": state, "change": change})


class LoginView(auth_views.LoginView):
    """Django's sign-in. ``next`` is followed only when it stays on this site (Django's
    ``url_has_allowed_host_and_scheme``); anything else is dropped and the person lands on the home
    page. Signing in from an invitation (``next`` is its page) says so, and "create an account"
    leads back to the invitation, whose own sign-up form keeps it."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        """An address without a password is the first step: an address that signs in elsewhere
        (single sign-on, ``signals.sign_in_realm``) is sent there; any other gets the password form."""
        email = request.POST.get("username", "").strip()
        if not email or request.POST.get("password"):
            return super().post(request, *args, **kwargs)
        email = normalize_email(email)[:254]
        for _receiver, answer in sign_in_realm.send(
            sender=type(self), request=request, email=email, next_url=self.get_redirect_url()
        ):
            if answer is not None:
                return answer
        form = self.get_form_class()(request, initial={"username": email})
        return self.render_to_response(self.get_context_data(form=form, password_step=True))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["invitation_url"] = _invitation_path(self.get_redirect_url())
        return context

    def get_default_redirect_url(self):
        """Without a ``next``, someone who belongs to one workspace goes straight to it; anyone else
        to the list of their workspaces."""
        workspace = sole_workspace_of(self.request.user) if self.request.user.is_authenticated else None
        return workspace.get_absolute_url() if workspace is not None else super().get_default_redirect_url()


def _invitation_path(url: str) -> str:
    """``url`` when it is an invitation's page on this site (already checked as safe), else ""."""
    if not url:
        return ""
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return ""
    return url if match.view_name == "invites:accept" else ""


class PasswordResetView(auth_views.PasswordResetView):
    """The form's page; the request itself is ``services.password_reset_request`` (throttled, and
    the same answer whether the address has an account or not)."""

    form_class = PasswordResetForm
    # The mail's templates (services.password_reset_request sends it; create_workspace reads these).
    email_template_name = emails.RESET_EMAIL_TEMPLATE
    html_email_template_name = emails.RESET_HTML_EMAIL_TEMPLATE
    subject_template_name = emails.RESET_SUBJECT_TEMPLATE
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        try:
            services.password_reset_request(email=form.cleaned_data["email"], client_ip=client_ip(self.request))
        except Throttled as exc:
            form.add_error(None, exc)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return redirect(self.get_success_url())


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
