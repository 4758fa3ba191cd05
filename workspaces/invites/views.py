"""The invitation link's page (docs/RULES.md 4.3, rule 6).

Opening the link (GET, HEAD) only reads: it names the workspace, the inviter and the role, so a
mail scanner that follows links joins nobody. Joining is a POST. Who is looking decides what the
page offers:

- signed in with the invited address: a Join button;
- signed in as someone else: says so by name, with a button to sign out and come back;
- not signed in, no account for the address: a sign-up form whose address is fixed; one POST
  creates the account, signs in and joins (possession of the link verifies the address);
- not signed in, the address has an account: a sign-in link that comes back here.

A revoked, used or expired link says which, and whom to ask. An unknown token is a 404. The rules
(single use, bound to the address, one membership from concurrent accepts) are
``invite_accept``'s; this page only chooses what to show.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.views import View

from accounts.models import normalize_email
from accounts.services import account_signup, email_verify_and_follow
from kernel.errors import RuleViolation
from workspaces.invites.mail import inviter_label
from workspaces.invites.selectors import has_account, invite_for_token, invite_outgrown
from workspaces.invites.services import invite_accept
from workspaces.models import Invite
from workspaces.people.forms import InviteSignupForm

UNUSABLE = {"revoked", "used", "expired", "outgrown"}


@method_decorator(login_not_required, name="dispatch")
class InviteAcceptView(View):
    http_method_names = ["get", "head", "post"]

    def dispatch(self, request, *args, token: str, **kwargs):
        self.token = token
        self.invite = invite_for_token(token)
        if self.invite is None:
            response = render(request, "workspaces/invite_not_found.html", status=404)
        else:
            response = super().dispatch(request, *args, **kwargs)
        # The page's address is the secret: keep it out of shared caches and browser history reuse.
        add_never_cache_headers(response)
        return response

    def state(self) -> str:
        invite, user = self.invite, self.request.user
        if invite.status == Invite.Status.REVOKED:
            return "revoked"
        if invite.status == Invite.Status.ACCEPTED:
            return "used"
        if invite.is_expired:
            return "expired"
        if invite_outgrown(invite):
            return "outgrown"
        if user.is_authenticated:
            return "join" if normalize_email(user.email) == normalize_email(invite.email) else "wrong_account"
        return "signin" if has_account(invite.email) else "signup"

    def page(self, state: str, form=None):
        invite = self.invite
        context = {
            "state": state,
            "invite": invite,
            "invited_workspace": invite.workspace,
            "inviter": inviter_label(invite.workspace, invite.invited_by),
            "ask": invite.invited_by.email if invite.invited_by else f"an administrator of {invite.workspace}",
            "login_url": self._login_url(),
            "form": form,
        }
        if state == "signup" and form is None:
            context["form"] = InviteSignupForm(email=invite.email)
        return render(self.request, "workspaces/invite_accept.html", context, status=410 if state in UNUSABLE else 200)

    def get(self, request, *args, **kwargs):
        return self.page(self.state())

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return self.join()
        state = self.state()
        if state == "signup":
            return self.sign_up()
        if state == "signin":
            return redirect(self._login_url())  # the address has an account: sign in, then come back
        return self.page(state)

    def _login_url(self) -> str:
        return f"{reverse('accounts:login')}?{urlencode({'next': self.request.path})}"

    def join(self):
        """The service decides (and refuses a wrong account, a used link…); the page then explains."""
        request = self.request
        try:
            membership = invite_accept(invite_token=self.token, user=request.user)
        except RuleViolation as exc:
            self.invite.refresh_from_db()
            if self.invite.accepted_by_id == request.user.pk:
                messages.info(request, f"You are already a member of {self.invite.workspace}.")
                return redirect(self.invite.workspace)
            if self.state() not in UNUSABLE | {"wrong_account"}:
                messages.error(request, " ".join(exc.messages))  # a refusal the page would not explain
            return redirect(request.path)
        messages.success(request, f"Welcome to {membership.workspace}! You joined as {membership.role}.")
        return redirect(membership.workspace)

    def sign_up(self):
        request, invite = self.request, self.invite
        form = InviteSignupForm(request.POST, email=invite.email)
        if not form.is_valid():
            return self.page("signup", form)
        data = form.cleaned_data
        try:
            # One transaction: if the invitation cannot be used after all, no account is left behind.
            with transaction.atomic():
                user = account_signup(
                    email=invite.email,
                    full_name=data["full_name"],
                    password=data["password"],
                    send_verification=False,  # the link proves the address: no mail needed to check it
                )
                # Through email_verify_and_follow, so what follows a verified address (joining by domain) follows
                # here too; a pending invitation wins over its own workspace's domain rule.
                verification = email_verify_and_follow(user)
                membership = invite_accept(invite_token=self.token, user=user)
        except RuleViolation:
            return redirect(request.path)  # used or withdrawn meanwhile: the page explains which
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.page("signup", form)
        login(request, user, backend="accounts.backends.EmailBackend")
        messages.success(
            request, f"Welcome to {membership.workspace}! Your account is ready and you joined as {membership.role}."
        )
        for outcome in verification.followed:  # another workspace's join domain admitted the address too
            messages.info(request, outcome.message)
        return redirect(membership.workspace)
