"""The public page of a published experience, open to people without an account.

- Its address holds its public token, not its id (ids are sequential; "anyone with the link" must
  not mean "anyone who counts"). A draft, an unknown token or a numeric id is a 404 for everyone.
- A public experience shows its content to anyone.
- A restricted one asks for an e-mail address and mails a one-time link if that address is in one
  of its viewer groups. The answer is the same whether or not it is, so the page never tells who
  may view. Opening the link shows a "Continue" button (the GET changes nothing, so a mail
  scanner that follows links cannot use them up); the POST uses the link and the session then
  shows the content. Members who can see the experience in the workspace see it too.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from workspaces.models import Experience
from workspaces.public.selectors import published_experience
from workspaces.viewer_groups.link_services import (
    LinkUnusable,
    grant_session,
    link_max_age,
    viewer_link_redeem,
    viewer_link_request,
)
from workspaces.viewer_groups.selectors import LinkState, is_restricted, session_may_view, viewer_link_state

LINK_STATUS = {LinkState.VALID: 200, LinkState.INVALID: 404}


class AddressForm(forms.Form):
    email = forms.EmailField(
        label="Your e-mail address",
        error_messages={"required": "Enter your e-mail address.", "invalid": "Enter a valid e-mail address."},
    )


def _published(public_token: str) -> Experience:
    return published_experience(public_token)


def _may_view(request, experience: Experience) -> bool:
    if not is_restricted(experience):
        return True
    if request.user.is_authenticated and request.access.has("view_experience", experience):
        return True
    return session_may_view(request.session, experience)


def neutral_message(email: str) -> str:
    """The one answer to every request for a link: it must read the same whether one was sent."""
    minutes = int(link_max_age().total_seconds() // 60)
    return (
        f"If {email} may view this experience, a link to open it is on its way to that address. "
        f"The link works once, for {minutes} minutes. Nothing arrived? Check the address and your spam "
        "folder, or ask whoever shared the experience with you."
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def experience_page(request, public_token: str):
    experience = _published(public_token)
    if _may_view(request, experience):
        response = render(request, "public/experience.html", {"experience": experience})
        if is_restricted(experience):
            add_never_cache_headers(response)  # no shared cache may keep restricted content
        return response
    form = AddressForm(request.POST) if request.method == "POST" else AddressForm()
    if form.is_bound and form.is_valid():
        email = form.cleaned_data["email"]
        viewer_link_request(experience=experience, email=email)  # its outcome is not shown, on purpose
        messages.info(request, neutral_message(email))
        return redirect("public:experience", experience.public_token)
    return render(request, "public/experience_restricted.html", {"experience": experience, "form": form})


@login_not_required
@require_http_methods(["GET", "POST"])
def link_page(request, public_token: str, token: str):
    experience = _published(public_token)
    if request.method == "POST":
        try:
            email = viewer_link_redeem(experience=experience, token=token)
        except LinkUnusable as exc:
            state = exc.state
        else:
            grant_session(request.session, experience, email)
            messages.success(request, f"Welcome. Your address {email} is confirmed for this experience.")
            return redirect("public:experience", experience.public_token)
    else:
        state = viewer_link_state(experience=experience, token=token)
    response = render(
        request,
        "public/link.html",
        {"experience": experience, "state": state},
        status=LINK_STATUS.get(state, 410),
    )
    add_never_cache_headers(response)
    # The token is in this page's address: never send it on to another site. ("no-referrer" would
    # make browsers send "Origin: null" with the Continue form, which CSRF protection refuses.)
    response["Referrer-Policy"] = "same-origin"
    return response
