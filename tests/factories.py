"""factory-boy factories. State that has rules (memberships, sites, grants) is made through the
services, so tests see the same guardian rows and audit events as real use."""

from __future__ import annotations

import factory
from django.utils import timezone

from accounts.models import User
from permissions import catalog
from permissions.roles import builtin_role
from workspaces.experiences.services import experience_create
from workspaces.models import Membership, Workspace
from workspaces.overview.services import workspace_create
from workspaces.people.services import member_add
from workspaces.sites.services import site_create
from workspaces.teams.services import team_create
from workspaces.viewer_groups.services import viewer_group_members_add

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    email_verified_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


def make_workspace(owner: User | None = None, name: str = "Acme") -> Workspace:
    owner = owner or UserFactory()
    return workspace_create(actor=owner, creator=owner, name=name)


def add_member(workspace: Workspace, role_key: str = catalog.MEMBER, user: User | None = None) -> Membership:
    role = builtin_role(role_key) if isinstance(role_key, str) else role_key
    return member_add(workspace=workspace, user=user or UserFactory(), role=role)


def owner_of(workspace: Workspace) -> User:
    return Membership.objects.filter(workspace=workspace, role__key=catalog.OWNER).select_related("user").first().user


def make_site(workspace: Workspace, name: str = "Shop", **kwargs):
    return site_create(
        actor=None,
        workspace=workspace,
        name=name,
        owner=kwargs.pop("owner", None) or Membership.objects.filter(workspace=workspace).first(),
        **kwargs,
    )


def make_experience(workspace: Workspace, creator: User | None = None, title: str = "Launch"):
    return experience_create(actor=creator or owner_of(workspace), workspace=workspace, title=title)


def make_team(workspace: Workspace, name: str = "Growth"):
    return team_create(actor=None, workspace=workspace, name=name)


def viewer_group_member_add(*, actor, group, email: str):
    """Add one address to a viewer group through the service (which takes a list); returns the row."""
    return viewer_group_members_add(actor=actor, group=group, emails=[email])[0]
