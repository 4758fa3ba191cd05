"""Fill the database with a demo workspace, so a newcomer sees a working portal at once.

Everything is written through the services, as the demo people, so the audit log reads like real
use. Running the command again duplicates nothing: the workspace is filled, in one transaction,
only when it does not exist yet, and the accounts are looked up before they are made. The demo
accounts share one published password, so the command refuses to run with DEBUG off unless told
to: a real database does not get them by accident.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.shortcuts import resolve_url
from django.utils import timezone

from accounts.models import User, normalize_email
from billing.services import plan_change
from permissions import catalog
from permissions.roles import builtin_role
from workspaces.experiences.services import collaborator_add, experience_create, experience_publish
from workspaces.models import Experience, Workspace
from workspaces.overview.services import workspace_create
from workspaces.people.services import member_add
from workspaces.sites.services import site_create, site_grant_set
from workspaces.teams.services import team_add_member, team_create

WORKSPACE_NAME = "Acme Analytics"
DEMO_PLAN = "business"
TIME_ZONE = "Europe/Berlin"
PASSWORD = "acme-demo-portal"
OWNER_EMAIL = "owner@demo.test"

# (e-mail, full name, workspace role): every built-in workspace role, the owner first.
PEOPLE = [
    (OWNER_EMAIL, "Olivia Owner", catalog.OWNER),
    ("admin@demo.test", "Adam Admin", catalog.ADMIN),
    ("billing@demo.test", "Bianca Billing", catalog.BILLING_ADMIN),
    ("member@demo.test", "Mia Member", catalog.MEMBER),
    ("analyst@demo.test", "Andre Analyst", catalog.MEMBER),
    ("designer@demo.test", "Dana Designer", catalog.MEMBER),
    ("viewer@demo.test", "Victor Viewer", catalog.VIEWER),
]

# (slug, name, address, site owner's e-mail)
SITES = [
    ("shop", "Web shop", "https://shop.acme.test", OWNER_EMAIL),
    ("marketing", "Marketing site", "https://www.acme.test", "admin@demo.test"),
    ("help", "Help center", "https://help.acme.test", "admin@demo.test"),
    ("app", "Mobile app", "https://app.acme.test", OWNER_EMAIL),
]

# team name → (description, member e-mails, {site slug: site role})
TEAMS = {
    "Growth": (
        "Runs campaigns and experiments on the shop and the marketing site.",
        ["member@demo.test", "analyst@demo.test"],
        {"shop": catalog.EDITOR, "marketing": catalog.EDITOR},
    ),
    "Support": (
        "Answers customers; reads the help center's data.",
        ["designer@demo.test"],
        {"help": catalog.SITE_VIEWER},
    ),
}

# (e-mail, site slug, site role, extra capabilities): grants to single members.
MEMBER_GRANTS = [
    ("analyst@demo.test", "shop", catalog.SITE_ADMIN, frozenset()),
    ("designer@demo.test", "marketing", catalog.EDITOR, frozenset({"tag_comments"})),
    ("member@demo.test", "app", catalog.SITE_VIEWER, frozenset()),
]


@dataclass(frozen=True)
class DemoExperience:
    title: str
    creator: str
    site: str
    collaborators: tuple[str, ...]
    published: bool
    description: str


EXPERIENCES = [
    DemoExperience(
        "Spring sale landing page",
        "member@demo.test",
        "shop",
        ("analyst@demo.test",),
        True,
        "The landing page of the spring campaign, with its A/B variants.",
    ),
    DemoExperience(
        "Onboarding tour", "admin@demo.test", "app", ("designer@demo.test",), False, "First-run tour of the app."
    ),
    DemoExperience("Checkout survey", "analyst@demo.test", "shop", (), False, "Two questions after a completed order."),
]


class Command(BaseCommand):
    help = "Fill the database with a demo workspace, sites, people, teams and experiences (safe to re-run)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even with DEBUG off. The demo accounts share a published password: never on a real site.",
        )

    def handle(self, *args, force: bool, verbosity: int, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off: this looks like a real installation, and the demo accounts share a published "
                "password. Use --force to add them anyway."
            )
        with transaction.atomic():
            workspace, created = build_demo()
        if verbosity >= 1:
            self._print_sign_in(workspace, created)

    def _print_sign_in(self, workspace: Workspace, created: bool) -> None:
        base = settings.PORTAL_BASE_URL.rstrip("/")
        state = "created" if created else "already there; left as it is"
        self.stdout.write(self.style.SUCCESS(f"Demo workspace “{workspace.name}” ({workspace.slug}): {state}."))
        self.stdout.write(f"Sign in at {base}{resolve_url(settings.LOGIN_URL)} as any of:")
        for email, full_name, role_key in PEOPLE:
            self.stdout.write(f"  {email:<22} {builtin_role(role_key).name:<14} {full_name}")
        self.stdout.write(f"Password (the same for every demo account): {PASSWORD}")


def build_demo() -> tuple[Workspace, bool]:
    """The demo workspace, and whether it was made now.

    The accounts are always brought back to the published password, so the printed sign-in works;
    the workspace is filled only when it is first made, so what a newcomer changes in it survives a
    re-run (delete the workspace to start afresh).
    """
    users = {email: demo_account(email, name) for email, name, _ in PEOPLE}
    owner = users[OWNER_EMAIL]
    workspace = Workspace.objects.filter(name=WORKSPACE_NAME, memberships__user=owner).first()
    if workspace is not None:
        return workspace, False
    workspace = workspace_create(actor=owner, creator=owner, name=WORKSPACE_NAME, time_zone=TIME_ZONE)
    # The first plan allows one site and three members; the demo shows a workspace in full use.
    plan_change(actor=owner, workspace=workspace, plan_key=DEMO_PLAN)
    members = {
        email: member_add(workspace=workspace, user=users[email], role=builtin_role(role), invited_by=owner)
        for email, _, role in PEOPLE
    }
    sites = {
        slug: site_create(
            actor=owner,
            workspace=workspace,
            name=name,
            slug=slug,
            url=url,
            time_zone=TIME_ZONE,
            owner=members[site_owner],
        )
        for slug, name, url, site_owner in SITES
    }
    for name, (description, emails, grants) in TEAMS.items():
        team = team_create(actor=owner, workspace=workspace, name=name, description=description)
        for email in emails:
            team_add_member(actor=owner, team=team, membership=members[email])
        for slug, role in grants.items():
            site_grant_set(actor=owner, site=sites[slug], role=builtin_role(role, catalog.SITE), team=team)
    for email, slug, role, extra in MEMBER_GRANTS:
        site_role = builtin_role(role, catalog.SITE)
        site_grant_set(actor=owner, site=sites[slug], role=site_role, membership=members[email], extra=extra)
    for spec in EXPERIENCES:
        demo_experience(workspace, spec, users[spec.creator], members, sites)
    return workspace, True


def demo_account(email: str, full_name: str) -> User:
    """A verified account with the demo password, made or brought back to that state."""
    user = User.objects.filter(email=normalize_email(email)).first()
    if user is None:
        return User.objects.create_user(email, PASSWORD, full_name=full_name, email_verified_at=timezone.now())
    if not user.check_password(PASSWORD) or user.email_verified_at is None:
        user.set_password(PASSWORD)
        user.email_verified_at = user.email_verified_at or timezone.now()
        user.save(update_fields=["password", "email_verified_at"])
    return user


def demo_experience(workspace: Workspace, spec: DemoExperience, creator: User, members, sites) -> Experience:
    """Made by its demo author, who becomes its first collaborator and adds the others."""
    experience = experience_create(
        actor=creator, workspace=workspace, title=spec.title, description=spec.description, site=sites[spec.site]
    )
    for email in spec.collaborators:
        collaborator_add(actor=creator, experience=experience, membership=members[email])
    if spec.published:
        experience_publish(actor=creator, experience=experience, visibility=Experience.Visibility.PUBLIC)
    return experience
