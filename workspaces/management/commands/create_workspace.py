"""Create a workspace with a named person as its Owner (docs/RULES.md 5.2).

A person without an account gets one with no usable password, and Django's password-reset e-mail
so they choose their own: the operator never learns, types or sees a password.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from accounts.emails import absolute_url, reset_message
from accounts.models import User, normalize_email
from accounts.services import account_create
from accounts.views import PasswordResetView
from kernel.errors import RuleViolation
from kernel.mail import deliver
from workspaces.overview.services import workspace_create


class FirstPasswordForm(PasswordResetForm):
    """Django's reset form, but for an account that never had a password.

    The stock form skips accounts with an unusable password (here, exactly the account that needs
    the mail). The mail is queued for after the commit like every other; one that cannot be sent is
    tried again, and listed with the failed tasks in the admin once it gives up.
    """

    def get_users(self, email):
        return User.objects.filter(email=normalize_email(email), is_active=True)

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        deliver([reset_message(subject_template_name, email_template_name, context, to_email, **kwargs)])


def send_set_password_email(user: User) -> None:
    """Mail the portal's password-reset message: a one-use link to choose a password.

    The link is built from settings.PORTAL_BASE_URL (there is no request to take a host from).
    """
    base = urlsplit(settings.PORTAL_BASE_URL)
    form = FirstPasswordForm({"email": user.email})
    if not form.is_valid():
        raise CommandError(f"Cannot mail {user.email}: {' '.join(form.errors['email'])}")
    form.save(
        domain_override=base.netloc,
        use_https=base.scheme == "https",
        subject_template_name=PasswordResetView.subject_template_name,
        email_template_name=PasswordResetView.email_template_name,
        html_email_template_name=PasswordResetView.html_email_template_name,
        extra_email_context={"base_url": absolute_url("")},
    )


class Command(BaseCommand):
    help = "Create a workspace with EMAIL as its Owner; a new account gets a link to choose its password."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The workspace's name.")
        parser.add_argument("--owner", required=True, metavar="EMAIL", help="The first Owner's e-mail address.")

    def handle(self, *args, name: str, owner: str, verbosity: int, **options):
        name, email = name.strip(), normalize_email(owner)
        if not name:
            raise CommandError("Give the workspace a name.")
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"“{owner}” is not a valid e-mail address.") from exc
        # One transaction; the mail is queued when it commits, so a failure creates nothing and mails
        # nobody, and the operator can simply run the command again.
        try:
            with transaction.atomic():
                user, created = self._owner_account(email)
                workspace = workspace_create(actor=None, creator=user, name=name)
                if not user.has_usable_password():
                    send_set_password_email(user)
        except RuleViolation as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        if verbosity >= 1:
            account = "a new account" if created else "an existing account"
            self.stdout.write(f"Created workspace “{workspace.name}” owned by {user.email} ({account}).")
            if not user.has_usable_password():
                self.stdout.write(f"Queued a mail to {user.email} with a link to choose a password.")
        self.stdout.write(workspace.slug)

    def _owner_account(self, email: str) -> tuple[User, bool]:
        user = User.objects.filter(email=normalize_email(email)).first()
        if user is not None:
            if not user.is_active:
                raise CommandError(f"The account {user.email} is deactivated; it cannot own a workspace.")
            return user, False
        # No password: an unusable one, so nobody can sign in until the person follows the e-mailed
        # link. The operator is the system (actor None).
        return account_create(actor=None, email=email), True
