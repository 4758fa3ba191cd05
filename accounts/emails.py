"""Mail the accounts app sends. Every message has a plain-text and an HTML part, both from templates.

Messages are rendered here, in the request, and queued for after the commit (``kernel.mail.deliver``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from kernel.mail import deliver

from .addresses import normalize_email
from .tokens import make_verification_token


def absolute_url(path: str) -> str:
    """Links in mail are built from settings.PORTAL_BASE_URL, never from a request's Host header."""
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def send_templated_mail(*, to: str, template: str, context: dict) -> None:
    """Send ``emails/accounts/<template>_subject.txt``, ``.txt`` and ``.html`` to one address."""
    subject = render_to_string(f"emails/accounts/{template}_subject.txt", context)
    text = render_to_string(f"emails/accounts/{template}.txt", context)
    html = render_to_string(f"emails/accounts/{template}.html", context)
    message = EmailMultiAlternatives(" ".join(subject.split()), text, to=[to])
    message.attach_alternative(html, "text/html")
    deliver([message])


def send_verification_email(user) -> None:
    link = absolute_url(reverse("accounts:verify", args=[make_verification_token(user)]))
    send_templated_mail(
        to=user.email,
        template="verify_email",
        context={"user": user, "link": link, "valid_seconds": settings.EMAIL_VERIFICATION_MAX_AGE},
    )


def send_signup_attempt_email(user) -> None:
    """To the owner of an address someone tried to sign up with: sign in, or reset the password."""
    send_templated_mail(
        to=user.email,
        template="signup_attempt",
        context={
            "user": user,
            "login_link": absolute_url(reverse("accounts:login")),
            "reset_link": absolute_url(reverse("accounts:password_reset")),
        },
    )


RESET_EMAIL_TEMPLATE = "emails/accounts/password_reset.txt"
RESET_HTML_EMAIL_TEMPLATE = "emails/accounts/password_reset.html"
RESET_SUBJECT_TEMPLATE = "emails/accounts/password_reset_subject.txt"


class _ResetMailer(auth_forms.PasswordResetForm):
    """Django's reset mail (token, link, templates), for the account with the canonical address."""

    def get_users(self, email):
        users = get_user_model()._default_manager.filter(email=normalize_email(email), is_active=True)
        return (user for user in users if user.has_usable_password())

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        deliver([reset_message(subject_template_name, email_template_name, context, to_email, **kwargs)])


def reset_message(
    subject_template_name, email_template_name, context, to_email, html_email_template_name=None
) -> EmailMultiAlternatives:
    """Django's password-reset mail, as ``PasswordResetForm.send_mail`` builds it, to be queued."""
    subject = "".join(render_to_string(subject_template_name, context).splitlines())
    message = EmailMultiAlternatives(subject, render_to_string(email_template_name, context), to=[to_email])
    if html_email_template_name:
        message.attach_alternative(render_to_string(html_email_template_name, context), "text/html")
    return message


def send_password_reset_email(address: str) -> None:
    """Mail a reset link to the account with this (canonical) address, if there is one."""
    mailer = _ResetMailer({"email": address})
    if not mailer.is_valid():
        return
    mailer.save(
        domain_override=urlsplit(absolute_url("")).netloc,
        subject_template_name=RESET_SUBJECT_TEMPLATE,
        email_template_name=RESET_EMAIL_TEMPLATE,
        html_email_template_name=RESET_HTML_EMAIL_TEMPLATE,
        # The link's host comes from settings, never from the request's Host header.
        extra_email_context={"base_url": absolute_url("")},
    )


def send_email_change_link(*, user, new_email: str, token: str) -> None:
    """To the new address: follow the link to make it the account's address."""
    send_templated_mail(
        to=new_email,
        template="email_change",
        context={
            "user": user,
            "new_email": new_email,
            "link": absolute_url(reverse("accounts:email_change_confirm", args=[token])),
            "valid_seconds": settings.EMAIL_VERIFICATION_MAX_AGE,
        },
    )


def send_email_changed_notice(*, user, old_email: str) -> None:
    """To the old address, once the change is made: if it was not you, reset the password."""
    send_templated_mail(
        to=old_email,
        template="email_changed",
        context={"user": user, "old_email": old_email},
    )
