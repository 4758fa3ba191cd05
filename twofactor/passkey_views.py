"""The passkey pages and the JSON endpoints of the passkey ceremonies.

- ``PasskeysView`` (/accounts/two-factor/passkeys/): the person's passkeys, "Add a passkey", and,
  when the last sign-in is not recent, the password form that makes it recent again.
- Registration: ``register/begin`` answers the options for ``navigator.credentials.create()``,
  ``register/complete`` checks the browser's answer and adds the passkey (``passkey_add``). A
  passkey may be the person's first second factor (offered on the set-up page too): it then
  turns two-factor authentication on, verifies the session (the authenticator checked its
  owner) and comes with backup codes, shown once on the next page. A person who has a second
  factor already must have proved it in this session before adding a passkey.
- The second step after the password (under /accounts/two-factor/verify/, which a person owing a
  code may open): ``verify/passkey/begin`` and ``.../complete`` verify the session like a code.
- Signing in with a passkey alone: ``passkey-sign-in/begin`` and ``.../complete``, open without
  an account. A passkey is something held plus its owner's fingerprint, face or PIN, so the
  session is verified at once. Failures count as failed sign-ins in django-axes, for the address
  whose passkey was presented, and a locked-out address cannot sign in with a passkey either.

The endpoints answer JSON: ``{"options": ...}`` to begin, ``{"redirect": url}`` on success, and
``{"error": message}`` with a 4xx status on refusal. ``static/js/passkeys.js`` drives them.
"""

from __future__ import annotations

from urllib.parse import urlencode

from axes.handlers.proxy import AxesProxyHandler
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.signals import user_login_failed
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView
from django_otp_webauthn.models import WebAuthnCredential

from kernel.confirm import Confirmation, ConfirmMixin
from kernel.errors import RuleViolation
from workspaces.selectors import sole_workspace_of

from . import devices, passkeys, services, session
from .forms import PasswordAgainForm
from .views import keep_codes_to_show

LOCKED_OUT = "Too many failed sign-ins for this account. Wait a while and try again."
NOT_RECENT = "Confirm your password first: adding a passkey needs a recent sign-in."
NOT_VERIFIED = "Enter a code or use a passkey first: adding a passkey needs the second step of signing in."
PASSWORD_WRONG = "That password is not right."
# The session's account is then loaded as after a password sign-in (the backend's get_user).
PASSWORD_BACKEND = "accounts.backends.EmailBackend"


def _refused(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _passkeys_url() -> str:
    return reverse("two_factor:passkeys")


@method_decorator(never_cache, name="dispatch")
class PasskeysView(FormView):
    """The person's passkeys (name, added, last used, remove) and the way to add one."""

    template_name = "twofactor/passkeys.html"
    form_class = PasswordAgainForm

    def get_context_data(self, **kwargs):
        user = self.request.user
        enabled = devices.has_two_factor(user)
        return super().get_context_data(
            enabled=enabled,
            unverified=enabled and not session.is_verified(user),
            passkeys=passkeys.passkeys_of(user),
            recent=session.signed_in_recently(self.request),
            verify_url=f"{reverse('two_factor:verify')}?next={_passkeys_url()}",
            **kwargs,
        )

    def form_valid(self, form):
        """The password again: through ``authenticate``, so that django-axes counts a wrong one."""
        user = self.request.user
        checked = authenticate(self.request, username=user.email, password=form.cleaned_data["password"])
        if checked is None or checked.pk != user.pk:
            form.add_error("password", PASSWORD_WRONG)
            return self.form_invalid(form)
        session.mark_proved(self.request)
        messages.success(self.request, "Thank you. You can add a passkey now.")
        return redirect(_passkeys_url())


class _JsonView(View):
    http_method_names = ["post"]

    @method_decorator(never_cache)
    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except RuleViolation as exc:
            return _refused(" ".join(exc.messages))


def _may_not_register(request) -> JsonResponse | None:
    """The refusal, if this session may not add a passkey: it needs a recent sign-in and, for a
    person with a second factor already, the second step done (else a stolen password would be
    enough to add the thief's passkey to an account protected by an app)."""
    if not session.signed_in_recently(request):
        return _refused(NOT_RECENT, 403)
    if not session.is_verified(request.user) and devices.has_two_factor(request.user):
        return _refused(NOT_VERIFIED, 403)
    return None


class RegisterBeginView(_JsonView):
    def post(self, request):
        refusal = _may_not_register(request)
        if refusal is not None:
            return refusal
        return JsonResponse({"options": passkeys.register_begin(request, request.user)})


class RegisterCompleteView(_JsonView):
    def post(self, request):
        refusal = _may_not_register(request)
        if refusal is not None:
            return refusal
        data = passkeys.parse_answer(request.body)
        state = passkeys.take_state(request, passkeys.REGISTER_STATE)
        credential = data.get("credential")
        if not isinstance(credential, dict):
            raise passkeys.PasskeyRefused(passkeys.NOT_ACCEPTED)
        device, codes = services.passkey_add(user=request.user, name=data.get("name", ""), state=state, data=credential)
        messages.success(request, f"The passkey “{device.name}” is added.")
        if not session.is_verified(request.user):
            # The first second factor (``_may_not_register``): the authenticator verified its
            # owner when it made the passkey, so the session is verified, as after confirming an
            # authenticator app.
            session.mark_verified(request, device)
        next_url = _next_url(request, data, _passkeys_url())
        if not codes:
            return JsonResponse({"redirect": next_url})
        messages.success(request, "Two-factor authentication is on.")
        keep_codes_to_show(request, codes)
        return JsonResponse({"redirect": f"{reverse('two_factor:new_backup_codes')}?{urlencode({'next': next_url})}"})


class PasskeyRemoveView(ConfirmMixin, TemplateView):
    """Remove one of the person's passkeys, after a confirmation. Anyone else's id is a 404."""

    template_name = "confirm.html"

    @cached_property
    def passkey(self) -> WebAuthnCredential:
        return get_object_or_404(WebAuthnCredential, user=self.request.user, pk=self.kwargs["pk"])

    def confirmation(self) -> Confirmation:
        consequences = ["It no longer signs you in, neither as a second step nor on its own."]
        if devices.is_last_factor(self.request.user, self.passkey):
            consequences.append(
                "It is your only second factor: two-factor authentication is then off, and your backup codes "
                "stop working. Signing in needs only your password."
            )
        return Confirmation(
            title=f"Remove the passkey “{self.passkey.name}”?",
            button="Remove the passkey",
            cancel_url=_passkeys_url(),
            consequences=consequences,
        )

    def confirmed(self, request, *args, **kwargs):
        name = self.passkey.name
        try:
            services.passkey_remove(user=request.user, passkey=self.passkey)
        except RuleViolation as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(_passkeys_url())
        messages.success(request, f"The passkey “{name}” is removed.")
        return redirect(_passkeys_url())


# --- using a passkey --------------------------------------------------------------------------------


def _failed(request, email: str) -> None:
    """Count a refused passkey as a failed sign-in of ``email`` (django-axes listens)."""
    user_login_failed.send(sender=__name__, credentials={"username": email}, request=request)


def _locked_out(request, email: str) -> bool:
    return AxesProxyHandler.is_locked(request, credentials={"username": email})


def _next_url(request, data: dict, fallback: str) -> str:
    candidate = str(data.get("next") or "")
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if allowed else fallback


class VerifyBeginView(_JsonView):
    """The second step after the password, with one of the person's passkeys."""

    def post(self, request):
        if not passkeys.has_passkey(request.user):
            return _refused("You have no passkey. Enter a code instead.", 403)
        return JsonResponse({"options": passkeys.authenticate_begin(request, request.user)})


class VerifyCompleteView(_JsonView):
    def post(self, request):
        user = request.user
        data = passkeys.parse_answer(request.body)
        if _locked_out(request, user.email):
            return _refused(LOCKED_OUT, 429)
        try:
            device = passkeys.authenticate_check(request, data.get("credential") or {}, user=user)
        except passkeys.PasskeyRefused:
            _failed(request, user.email)
            raise
        session.mark_verified(request, device)
        return JsonResponse({"redirect": _next_url(request, data, reverse("home"))})


class SignInBeginView(_JsonView):
    """Signing in with a passkey alone: any passkey of this site may answer."""

    def post(self, request):
        if request.user.is_authenticated:
            return _refused("You are signed in already.", 403)
        return JsonResponse({"options": passkeys.authenticate_begin(request)})


class SignInCompleteView(_JsonView):
    def post(self, request):
        if request.user.is_authenticated:
            return _refused("You are signed in already.", 403)
        data = passkeys.parse_answer(request.body)
        credential = data.get("credential") or {}
        owner = passkeys.owner_of_answer(credential) if isinstance(credential, dict) else None
        email = owner.email if owner is not None else ""
        if _locked_out(request, email):
            return _refused(LOCKED_OUT, 429)
        try:
            device = passkeys.authenticate_check(request, credential)
        except passkeys.PasskeyRefused:
            _failed(request, email)
            raise
        user = device.user
        login(request, user, backend=PASSWORD_BACKEND)
        session.mark_verified(request, device)
        workspace = sole_workspace_of(user)
        fallback = workspace.get_absolute_url() if workspace is not None else reverse("home")
        return JsonResponse({"redirect": _next_url(request, data, fallback)})
