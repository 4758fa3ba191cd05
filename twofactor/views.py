"""The two-factor pages under /accounts/two-factor/: a person's own set-up (an authenticator app
or a passkey), code entry, backup codes and turning it off, and a workspace's requirement
(``manage_two_factor_policy``).

Views translate between HTTP and ``twofactor.services``; pages showing a secret or backup codes
are never cached. Backup codes are shown once, in the response of the request that made them.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from kernel.errors import RuleViolation
from kernel.views import WorkspaceMixin

from . import devices, passkeys, selectors, services, session
from .forms import AppCodeForm, BackupCodeForm, CodeForm, RequirementForm, safe_next
from .middleware import redirect_to_two_factor
from .models import WorkspaceSecurity
from .qr import qr_svg


def _index_url() -> str:
    return reverse("two_factor:index")


class IndexView(TemplateView):
    """Whether two-factor authentication is on, what to do with it, and which of the person's
    workspaces require it."""

    template_name = "twofactor/index.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        memberships = selectors.memberships_with_security(user)
        workspaces = [membership.workspace for membership in memberships]
        self.request.access.prefetch(workspaces)
        rows = [
            {
                "workspace": workspace,
                "required": _required(workspace),
                "may_manage": self.request.access.has("manage_two_factor_policy", workspace),
            }
            for workspace in workspaces
        ]
        has_app = devices.has_app(user)
        passkey_count = passkeys.passkey_count(user)
        return super().get_context_data(
            enabled=has_app or passkey_count > 0,  # devices.has_two_factor, from what the page reads anyway
            has_app=has_app,
            backup_codes_left=devices.backup_codes_left(user),
            passkey_count=passkey_count,
            workspaces=rows,
            **kwargs,
        )


def _required(workspace) -> bool:
    try:
        return workspace.security.two_factor_required
    except WorkspaceSecurity.DoesNotExist:
        return False


def _codes_page(request, codes: list[str], *, next_url: str, heading: str):
    return render(
        request,
        "twofactor/backup_codes.html",
        {"codes": codes, "next_url": next_url, "heading": heading},
    )


NEW_CODES = "two_factor_new_backup_codes"


def keep_codes_to_show(request, codes: list[str]) -> None:
    """Backup codes made by a JSON request (a first passkey), kept in the session (stored on the
    server) until ``NewBackupCodesView`` shows them, once."""
    request.session[NEW_CODES] = list(codes)


@method_decorator(never_cache, name="dispatch")
class NewBackupCodesView(TemplateView):
    """The backup codes that came with a first passkey, shown once: taken out of the session."""

    def get(self, request, *args, **kwargs):
        codes = request.session.pop(NEW_CODES, None)
        if not codes:
            return redirect(_index_url())
        return _codes_page(request, codes, next_url=safe_next(request, _index_url()), heading="Save your backup codes")


@method_decorator(never_cache, name="dispatch")
class SetupView(FormView):
    """Two ways to a second factor: an authenticator app (the QR code and the secret for manual
    entry; a code from the app confirms it) or a passkey (made in the browser; see
    ``passkey_views``). A person whose only factor is a passkey may add an app here too."""

    template_name = "twofactor/setup.html"
    form_class = AppCodeForm

    @cached_property
    def next_url(self) -> str:
        return safe_next(self.request, _index_url())

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if devices.has_two_factor(user):
            if not session.is_verified(user):
                # Set up in another session: this one still owes a code or a passkey.
                return redirect(f"{reverse('two_factor:verify')}?{request.GET.urlencode()}")
            if devices.has_app(user):
                messages.info(request, services.APP_ALREADY_ON)
                return redirect(self.next_url)
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def device(self) -> TOTPDevice:
        return services.two_factor_setup_start(user=self.request.user)

    def get_context_data(self, **kwargs):
        device = self.device
        return super().get_context_data(
            qr_code=qr_svg(device.config_url, label="QR code for your authenticator app"),
            manual_key=devices.manual_entry_key(device),
            next_url=self.next_url,
            # The passkey way is offered for a first second factor (a second passkey is added on
            # the passkeys page); it needs a recent sign-in, as there.
            offer_passkey=not devices.has_two_factor(self.request.user),
            recent=session.signed_in_recently(self.request),
            **kwargs,
        )

    def form_valid(self, form):
        try:
            codes = services.two_factor_confirm(
                user=self.request.user, device=self.device, token=form.cleaned_data["code"]
            )
        except RuleViolation as exc:
            form.add_error("code", exc.messages)
            return self.form_invalid(form)
        session.mark_verified(self.request, self.device)
        if not codes:  # next to a passkey: the backup codes the person has stay as they are
            messages.success(self.request, "Your authenticator app is set up.")
            return redirect(self.next_url)
        messages.success(self.request, "Two-factor authentication is on.")
        return _codes_page(self.request, codes, next_url=self.next_url, heading="Save your backup codes")


@method_decorator(never_cache, name="dispatch")
class VerifyView(FormView):
    """The second step of signing in: one of the person's passkeys, a code from the app, or a
    backup code. A person without an app is asked for a passkey, or a backup code instead."""

    template_name = "twofactor/verify.html"
    form_class = CodeForm

    @cached_property
    def next_url(self) -> str:
        return safe_next(self.request, reverse("home"))

    def dispatch(self, request, *args, **kwargs):
        if session.is_verified(request.user) or not devices.has_two_factor(request.user):
            # Nothing owed: verified already, or two-factor was turned off since signing in.
            session.clear_pending(request)
            return redirect(self.next_url)
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def has_app(self) -> bool:
        return devices.has_app(self.request.user)

    def get_form_class(self):
        return CodeForm if self.has_app else BackupCodeForm

    def get_context_data(self, **kwargs):
        has_passkey = passkeys.has_passkey(self.request.user)
        return super().get_context_data(next_url=self.next_url, has_passkey=has_passkey, has_app=self.has_app, **kwargs)

    def form_valid(self, form):
        user = self.request.user
        try:
            device = devices.verify_code(user, form.cleaned_data["code"])
        except RuleViolation as exc:
            form.add_error("code", exc.messages)
            return self.form_invalid(form)
        session.mark_verified(self.request, device)
        if isinstance(device, StaticDevice):
            left = devices.backup_codes_left(user)
            messages.warning(
                self.request,
                f"You used a backup code; {left} left. Make new ones on your two-factor page if you run short.",
            )
        return redirect(self.next_url)


@method_decorator(never_cache, name="dispatch")
class BackupCodesView(FormView):
    """New backup codes in place of the old ones."""

    template_name = "twofactor/regenerate.html"
    form_class = CodeForm

    def dispatch(self, request, *args, **kwargs):
        if not devices.has_two_factor(request.user):
            messages.info(request, services.NOT_ON)
            return redirect("two_factor:index")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            codes = services.backup_codes_regenerate(user=self.request.user, token=form.cleaned_data["code"])
        except RuleViolation as exc:
            form.add_error("code", exc.messages)
            return self.form_invalid(form)
        messages.success(self.request, "You have new backup codes. The old ones no longer work.")
        return _codes_page(self.request, codes, next_url=_index_url(), heading="Your new backup codes")


class DisableView(FormView):
    """Turn two-factor authentication off, with a current code."""

    template_name = "twofactor/disable.html"
    form_class = CodeForm

    def dispatch(self, request, *args, **kwargs):
        if not devices.has_two_factor(request.user):
            messages.info(request, services.NOT_ON)
            return redirect("two_factor:index")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(requiring=selectors.requiring_workspaces(self.request.user), **kwargs)

    def form_valid(self, form):
        try:
            services.two_factor_disable(user=self.request.user, token=form.cleaned_data["code"])
        except RuleViolation as exc:
            form.add_error("code", exc.messages)
            return self.form_invalid(form)
        messages.success(self.request, "Two-factor authentication is off. Signing in needs only your password now.")
        return redirect("two_factor:index")


class WorkspacePolicyView(WorkspaceMixin, FormView):
    """Whether the workspace requires two-factor authentication of its members."""

    required_capability = "manage_two_factor_policy"
    template_name = "twofactor/workspace_policy.html"
    form_class = RequirementForm

    def dispatch(self, request, *args, **kwargs):
        self.access.require_member(self.workspace)
        # The page is the workspace's: it asks for two-factor like the workspace's own pages do,
        # so that nobody without it can switch the requirement off. Before the capability check:
        # a member who must still set up two-factor holds no capability until they have.
        if self.security.two_factor_required and not session.is_verified_for(request, self.workspace.pk):
            return redirect_to_two_factor(request, self.workspace.name)
        self.access.require(self.required_capability, self.workspace)
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def security(self) -> WorkspaceSecurity:
        return selectors.security_of(self.workspace)

    def get_initial(self):
        return {"two_factor_required": self.security.two_factor_required}

    def get_context_data(self, **kwargs):
        without, through_idp = selectors.members_without_two_factor(self.workspace)
        return super().get_context_data(
            security=self.security,
            own_two_factor=devices.has_two_factor(self.request.user),
            members_without=without,
            members_through_idp=through_idp,
            members_led_to_set_up=without - through_idp,
            setup_url=f"{reverse('two_factor:setup')}?{urlencode({'next': self.request.path})}",
            **kwargs,
        )

    def form_valid(self, form):
        required = form.cleaned_data["two_factor_required"]
        was = self.security.two_factor_required
        try:
            services.two_factor_requirement_set(actor=self.request.user, workspace=self.workspace, required=required)
        except RuleViolation as exc:
            form.add_error(None, exc.messages)
            return self.form_invalid(form)
        name = self.workspace.name
        if required == was:
            messages.info(self.request, "Nothing changed.")
        elif required:
            messages.success(
                self.request,
                f"{name} now requires two-factor authentication. "
                "Members without it are led to set it up the next time they open the workspace.",
            )
        else:
            messages.success(self.request, f"{name} no longer requires two-factor authentication.")
        return redirect("two_factor:workspace_policy", self.workspace.slug)
