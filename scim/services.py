"""Provisioning: what an identity provider's SCIM calls change, through the portal's own services.

Nothing here writes a membership, an account or a team itself: joining is ``people.member_add``,
deprovisioning ``people.member_remove``, accounts ``accounts.services``, teams
``teams.services``, so rules 1 to 8 and the audit log hold as for every other door. The provider
acts as the system (``actor=None``); the API names its token in the audit log
(``audit.context.system_acting``).

The rules of provisioning itself:

- A provisioned person joins with the role of the token the provider calls with
  (``ScimToken.role``, Member unless an owner or admin chose another: ``scim.tokens`` says why
  per token). Whoever chose it must still be allowed to give it (rule 3, asked of the policy as
  single sign-on asks it of a connection's default role), or nobody new is provisioned. Nothing the
  provider sends can give another role, and never Owner; a person who was already a member keeps
  their role.
- Only addresses at the workspace's verified join domains (``workspaces.JoinDomain``, verified
  and not suspended, as single sign-on admits) are provisioned: created, linked, made a member
  again, or given as a new address. Any other is refused (400, ``invalidValue``) and nothing is
  written, so a directory cannot pull in an account of somewhere else by sending its address. A
  workspace with no verified domain provisions nobody until an owner verifies one. Deprovisioning
  is always allowed.
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
- Every write takes the workspace's provisioning lock first (``kernel.locks.lock_provisioning``,
  level 0 of the lock order), then the accounts it is about: concurrent calls apply one after
  the other and each re-reads, under the lock, what it changes. A PATCH is applied to the
  resource as it is once locked (``change`` below), so two PATCHes adding two people to a group
  both land, and two POSTs of one userName give 201 and 409, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.addresses import normalize_email
from accounts.models import User
from accounts.services import account_create, account_update
from audit.services import record
from kernel.locks import lock_accounts, lock_provisioning
from permissions.models import Role
from permissions.policy import Access
from workspaces.joining.selectors import domain_for_email
from workspaces.models import Team, Workspace
from workspaces.people.services import member_add, member_remove
from workspaces.teams.services import team_add_member, team_create, team_delete, team_remove_member, team_update

from . import selectors
from .models import ScimGroup, ScimGroupMember, ScimToken, ScimUser
from .protocol import GroupData, ScimError, UserData, invalid

NO_VERIFIED_DOMAIN = (
    "This workspace has no verified domain: SCIM provisions only addresses at the workspace's verified "
    "domains. An owner must verify the organisation's domain in the workspace settings (Join domains) first."
)


def _check_domain(workspace: Workspace, address: str) -> None:
    """Refuse an address that is not at one of the workspace's verified, active join domains."""
    found = domain_for_email(address)
    if found is not None and found.workspace_id == workspace.pk:
        return
    if not selectors.verified_domains(workspace):
        raise invalid(NO_VERIFIED_DOMAIN)
    raise invalid(
        f"{address} is not at one of this workspace's verified domains: SCIM provisions only addresses there."
    )


def _role_of(token: ScimToken) -> Role:
    """The role the token provisions with, while whoever chose it may still give it (rule 3)."""
    role = token.role
    if role is None:
        raise ScimError(403, "This token has no role to give: create a new token on the SCIM tokens page.")
    if token.role_set_by is not None and not Access(token.role_set_by).can_give(role, token.workspace):
        raise ScimError(
            403,
            f"Whoever chose this token's role “{role.name}” may no longer give it: an owner must choose the "
            "token's role again on the SCIM tokens page.",
        )
    return role


def _locked_identity(identity: ScimUser) -> tuple[ScimUser, User]:
    """Level 0 then 1 of the lock order: the provisioning, then the person's account; the
    identity as it is now (404 when it went meanwhile)."""
    lock_provisioning(identity.workspace_id)
    current = ScimUser.objects.filter(pk=identity.pk).values_list("user_id", flat=True).first()
    if current is None:
        raise ScimError(404, "No such user.")
    user = lock_accounts([current]).get(current)
    if user is None:
        raise ScimError(404, "No such user.")
    return ScimUser.objects.select_related("user", "workspace").get(pk=identity.pk), user


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
def user_provision(*, token: ScimToken, data: UserData) -> ScimUser:
    """POST /Users: the account (made if the address is new), the membership with the token's
    role, the identity."""
    workspace = token.workspace
    lock_provisioning(workspace)
    address = _address(data)
    _check_domain(workspace, address)
    role = _role_of(token) if data.active else None
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
        member_add(workspace=workspace, user=user, role=role, action="member.add")
    try:
        with transaction.atomic():
            identity.save()
    except IntegrityError as exc:  # a concurrent provisioning of the same person or userName
        raise ScimError(409, "This user is already provisioned.", "uniqueness") from exc
    record(action="scim_user.create", workspace=workspace, target=identity, after=_identity_state(identity))
    identity.is_member = data.active
    return identity


@transaction.atomic
def user_update(*, token: ScimToken, identity: ScimUser, data: UserData | Callable[[ScimUser], UserData]) -> ScimUser:
    """PUT and PATCH /Users/<id>: the identity's attributes, the account where allowed, and
    ``active`` as membership (made again with the token's role). ``data`` is the new resource, or
    for a PATCH a function of the identity as it is once locked."""
    if identity.workspace_id != token.workspace_id:
        raise ScimError(404, "No such user.")  # the token's workspace is the only one it sees
    identity, user = _locked_identity(identity)
    workspace = identity.workspace
    if callable(data):
        identity.is_member = selectors.membership_of(workspace, user) is not None
        data = data(identity)
    if data.user_name.lower() != identity.user_name.lower() and selectors.user_name_taken(
        workspace, data.user_name, excluding=identity
    ):
        raise ScimError(409, f"A user with userName “{data.user_name}” is already provisioned.", "uniqueness")
    identity.user = user = _update_account(identity, user, data)
    membership = selectors.membership_of(workspace, user)
    if data.active and membership is None:
        _check_domain(workspace, user.email)
        member_add(workspace=workspace, user=user, role=_role_of(token), action="member.add")
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
            _check_domain(identity.workspace, address)
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
    identity, user = _locked_identity(identity)
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
    # ON CONFLICT DO NOTHING: already in the group is in the group, whoever put them there.
    ScimGroupMember.objects.bulk_create([ScimGroupMember(team=team, identity=identity)], ignore_conflicts=True)
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


def _lock_members(identities) -> None:
    """Level 1: the accounts of the people a group change adds or removes, so a removal of one of
    them elsewhere (the people page) waits, or is seen, before their team membership changes."""
    lock_accounts(identity.user_id for identity in identities)


@transaction.atomic
def group_create(*, workspace: Workspace, data: GroupData) -> Team:
    lock_provisioning(workspace)
    if selectors.team_named(workspace, data.display_name):
        raise ScimError(409, f"This workspace already has a team called “{data.display_name}”.", "uniqueness")
    wanted = _identities_for(workspace, data.member_ids or [])
    _lock_members(wanted.values())
    team = team_create(actor=None, workspace=workspace, name=data.display_name)
    _set_external_id(team, data.external_id)
    for identity in wanted.values():
        _join_team(team, identity)
    return team


@transaction.atomic
def group_update(*, team: Team, data: GroupData | Callable[[Team, list[ScimUser]], GroupData]) -> Team:
    """PUT and PATCH /Groups/<id>. ``member_ids`` None leaves the members alone. ``data`` is the
    new resource, or for a PATCH a function of the team and its provisioned members as they are
    once locked."""
    lock_provisioning(team.workspace_id)
    workspace = team.workspace
    team = selectors.team_in(workspace, team.pk)
    if team is None:
        raise ScimError(404, "No such group.")
    team.workspace = workspace
    if callable(data):
        data = data(team, selectors.provisioned_members(workspace, [team.pk]).get(team.pk, []))
    if data.display_name != team.name:
        if selectors.team_named(workspace, data.display_name, excluding=team):
            raise ScimError(409, f"This workspace already has a team called “{data.display_name}”.", "uniqueness")
        team = team_update(actor=None, team=team, name=data.display_name, description=team.description)
    _set_external_id(team, data.external_id)
    if data.member_ids is not None:
        wanted = _identities_for(workspace, data.member_ids)
        current = {str(item.scim_id) for item in selectors.provisioned_members(workspace, [team.pk]).get(team.pk, [])}
        leaving = selectors.scim_users_by_ids(workspace, sorted(current - set(wanted)))
        _lock_members([*wanted.values(), *leaving.values()])
        for scim_id, identity in wanted.items():
            if scim_id not in current:
                _join_team(team, identity)
        for identity in leaving.values():
            _leave_team(team, identity)
    return team


@transaction.atomic
def group_delete(*, team: Team) -> None:
    lock_provisioning(team.workspace_id)
    if selectors.team_in(team.workspace, team.pk) is None:
        raise ScimError(404, "No such group.")
    team_delete(actor=None, team=team)
