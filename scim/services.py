"""Provisioning: what an identity provider's SCIM calls change, through the portal's own services.

Nothing here writes a membership, an account or a team itself: joining is ``people.member_add``,
deprovisioning ``people.member_remove``, accounts ``accounts.services``, teams
``teams.services``, so rules 1 to 8 and the audit log hold as for every other door. The provider
acts as the system (``actor=None``); the API names its token in the audit log
(``audit.context.system_acting``).

The rules of provisioning itself:

- A provisioned person joins with the Member role. Nothing the provider sends can give another
  role, and never Owner; a person who was already a member keeps their role.
- ``active: false`` and DELETE remove the membership (the account stays). The sites the person
  owned go to the workspace's longest-standing active owner, as a removal on the people page
  with that owner chosen as successor (rule 2); the last active owner cannot be deprovisioned
  (rule 1): the call is refused and nothing changes.
- The provider changes an account's name and address only when provisioning created the account
  and the person belongs to no other workspace: one organisation's directory never renames, or
  moves the sign-in address of, someone other workspaces know. Otherwise a new address is refused
  and the name parts are kept on the identity only.
- Groups are the workspace's teams. A group's members are the identities the provider put in it
  (``ScimGroupMember``); the portal applies them to the team while each is a member of the
  workspace (a deprovisioned person leaves the team with the workspace and comes back with their
  provisioning). Members added to a team in the portal by hand are neither shown nor removed.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.addresses import normalize_email
from accounts.models import User
from accounts.services import account_create, account_update
from audit.services import record
from kernel.locks import lock_account
from permissions import catalog
from permissions.roles import builtin_role
from workspaces.models import Team, Workspace
from workspaces.people.services import member_add, member_remove
from workspaces.teams.services import team_add_member, team_create, team_delete, team_remove_member, team_update

from . import selectors
from .models import ScimGroup, ScimGroupMember, ScimUser
from .protocol import GroupData, ScimError, UserData, invalid

# The role of everyone provisioned (never Owner: see the module's docstring).
PROVISIONED_ROLE = catalog.MEMBER


def _address(data: UserData) -> str:
    """The account's address: the userName when it is an address, else the primary e-mail."""
    for candidate in (data.user_name, data.email):
        address = normalize_email(candidate)
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            continue
        return address
    raise invalid("The portal identifies people by e-mail address: send one as userName or as the primary e-mail.")


def _identity_state(identity: ScimUser) -> dict:
    return {
        "userName": identity.user_name,
        "externalId": identity.external_id,
        "name": " ".join(part for part in (identity.given_name, identity.family_name) if part),
    }


def _full_name(data: UserData) -> str:
    return (data.formatted_name or " ".join(p for p in (data.given_name, data.family_name) if p))[:150]


def _set_identity_fields(identity: ScimUser, data: UserData) -> None:
    identity.user_name = data.user_name
    identity.external_id = data.external_id
    identity.given_name = data.given_name
    identity.family_name = data.family_name
    identity.formatted_name = data.formatted_name
    identity.display_name = data.display_name
    identity.emails = data.emails


@transaction.atomic
def user_provision(*, workspace: Workspace, data: UserData) -> ScimUser:
    """POST /Users: the account (made if the address is new), the membership, the identity."""
    address = _address(data)
    if selectors.user_name_taken(workspace, data.user_name):
        raise ScimError(409, f"A user with userName “{data.user_name}” is already provisioned.", "uniqueness")
    user = User.objects.filter(email__iexact=address).first()
    created = user is None
    if created:
        user = account_create(actor=None, email=address)
        if full_name := _full_name(data):
            user = account_update(actor=None, user=user, changes={"full_name": full_name})
    elif selectors.scim_user_of(workspace, user) is not None:
        raise ScimError(409, f"{user.email} is already provisioned in this workspace.", "uniqueness")
    identity = ScimUser(workspace=workspace, user=user, created_account=created)
    _set_identity_fields(identity, data)
    if data.active:
        member_add(workspace=workspace, user=user, role=builtin_role(PROVISIONED_ROLE), action="member.add")
    try:
        with transaction.atomic():
            identity.save()
    except IntegrityError as exc:  # a concurrent provisioning of the same person or userName
        raise ScimError(409, "This user is already provisioned.", "uniqueness") from exc
    record(action="scim_user.create", workspace=workspace, target=identity, after=_identity_state(identity))
    identity.is_member = data.active
    return identity


@transaction.atomic
def user_update(*, identity: ScimUser, data: UserData) -> ScimUser:
    """PUT and PATCH /Users/<id>: the identity's attributes, the account where allowed, and
    ``active`` as membership."""
    workspace = identity.workspace
    user = lock_account(identity.user)  # level 1 of the one lock order, before the services' own
    identity = ScimUser.objects.select_related("user", "workspace").get(pk=identity.pk)
    if data.user_name.lower() != identity.user_name.lower() and selectors.user_name_taken(
        workspace, data.user_name, excluding=identity
    ):
        raise ScimError(409, f"A user with userName “{data.user_name}” is already provisioned.", "uniqueness")
    identity.user = user = _update_account(identity, user, data)
    membership = selectors.membership_of(workspace, user)
    if data.active and membership is None:
        member_add(workspace=workspace, user=user, role=builtin_role(PROVISIONED_ROLE), action="member.add")
        _rejoin_teams(identity)
    elif not data.active and membership is not None:
        _deprovision(membership)
    before = _identity_state(identity)
    _set_identity_fields(identity, data)
    identity.updated_at = timezone.now()
    try:
        with transaction.atomic():
            identity.save()
    except IntegrityError as exc:
        raise ScimError(409, f"A user with userName “{data.user_name}” is already provisioned.", "uniqueness") from exc
    if _identity_state(identity) != before:
        record(
            action="scim_user.update",
            workspace=workspace,
            target=identity,
            before=before,
            after=_identity_state(identity),
        )
    identity.is_member = data.active
    return identity


def _update_account(identity: ScimUser, user: User, data: UserData) -> User:
    may_change = identity.created_account and not selectors.other_workspaces_of(user, identity.workspace)
    changes = {}
    if data.email or data.user_name:
        try:
            address = _address(data)
        except ScimError:
            address = user.email  # neither is an address: the account keeps its own
        if address != user.email:
            if not may_change:
                raise invalid(
                    f"The address of {user.email} belongs to its owner: the provider may change it only for an account "
                    "it created and that no other workspace knows.",
                    "mutability",
                )
            if User.objects.filter(email__iexact=address).exclude(pk=user.pk).exists():
                raise ScimError(409, f"Another account has the address {address}.", "uniqueness")
            changes["email"] = address
    full_name = _full_name(data)
    if may_change and full_name and full_name != user.full_name:
        changes["full_name"] = full_name
    if changes:
        user = account_update(actor=None, user=user, changes=changes)
    return user


def _deprovision(membership) -> None:
    """Remove the membership; the sites the person owns go to the longest-standing other owner."""
    member_remove(actor=None, membership=membership, site_successor=selectors.successor_owner(membership))


@transaction.atomic
def user_delete(*, identity: ScimUser) -> None:
    """DELETE /Users/<id>: the membership and the identity go; the account stays."""
    user = lock_account(identity.user)
    membership = selectors.membership_of(identity.workspace, user)
    if membership is not None:
        _deprovision(membership)
    record(action="scim_user.delete", workspace=identity.workspace, target=identity, before=_identity_state(identity))
    ScimUser.objects.filter(pk=identity.pk).delete()


# --- groups: the workspace's teams ----------------------------------------------------------------


def _identities_for(workspace: Workspace, member_ids: list[str]) -> dict[str, ScimUser]:
    """The provisioned identities ``member_ids`` (by id); an id that is not an identity of this
    workspace is refused, whichever workspace it may belong to."""
    found = selectors.scim_users_by_ids(workspace, member_ids)
    unknown = [text for text in member_ids if text not in found]
    if unknown:
        raise invalid(f"Not a user of this workspace: {', '.join(unknown[:5])[:300]}.")
    return found


def _join_team(team: Team, identity: ScimUser) -> None:
    ScimGroupMember.objects.get_or_create(team=team, identity=identity)
    membership = selectors.membership_of(team.workspace, identity.user)
    if membership is not None:
        team_add_member(actor=None, team=team, membership=membership)


def _leave_team(team: Team, identity: ScimUser) -> None:
    ScimGroupMember.objects.filter(team=team, identity=identity).delete()
    membership = selectors.membership_of(team.workspace, identity.user)
    if membership is not None:
        team_remove_member(actor=None, team=team, membership=membership)


def _rejoin_teams(identity: ScimUser) -> None:
    """A person provisioned again goes back into the teams the provider keeps them in."""
    for row in selectors.group_rows(identity):
        _join_team(row.team, identity)


def _set_external_id(team: Team, external_id: str) -> None:
    link = ScimGroup.objects.filter(team=team).first()
    if link is None and external_id:
        ScimGroup.objects.create(team=team, external_id=external_id)
    elif link is not None and link.external_id != external_id:
        link.external_id = external_id
        link.save(update_fields=["external_id"])


@transaction.atomic
def group_create(*, workspace: Workspace, data: GroupData) -> Team:
    if selectors.team_named(workspace, data.display_name):
        raise ScimError(409, f"This workspace already has a team called “{data.display_name}”.", "uniqueness")
    wanted = _identities_for(workspace, data.member_ids or [])
    team = team_create(actor=None, workspace=workspace, name=data.display_name)
    _set_external_id(team, data.external_id)
    for identity in wanted.values():
        _join_team(team, identity)
    return team


@transaction.atomic
def group_update(*, team: Team, data: GroupData) -> Team:
    """PUT and PATCH /Groups/<id>. ``member_ids`` None leaves the members alone."""
    workspace = team.workspace
    if data.display_name != team.name:
        if selectors.team_named(workspace, data.display_name, excluding=team):
            raise ScimError(409, f"This workspace already has a team called “{data.display_name}”.", "uniqueness")
        team = team_update(actor=None, team=team, name=data.display_name, description=team.description)
    _set_external_id(team, data.external_id)
    if data.member_ids is not None:
        wanted = _identities_for(workspace, data.member_ids)
        current = {str(item.scim_id) for item in selectors.provisioned_members(workspace, [team.pk]).get(team.pk, [])}
        for scim_id, identity in wanted.items():
            if scim_id not in current:
                _join_team(team, identity)
        for identity in selectors.scim_users_by_ids(workspace, sorted(current - set(wanted))).values():
            _leave_team(team, identity)
    return team


def group_delete(*, team: Team) -> None:
    team_delete(actor=None, team=team)
