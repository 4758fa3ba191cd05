"""A connection's group mapping: claim values to a role and teams, applied at each sign-in through
the membership and team services. Refused and attacker sides: Owner is never given nor taken,
rule 3 is the saver's, other workspaces' roles, teams and connections, hostile text and claims."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_delete, role_save
from sso.models import Connection, GroupRule
from sso.services import connection_add, connection_mapping_set, sso_sign_in
from tests.factories import UserFactory, add_member, make_team, make_workspace
from workspaces.joining.services import join_domain_add
from workspaces.models import Membership, TeamMembership
from workspaces.people.services import member_change_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return UserFactory(email="olivia@acme.test")


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Acme")


@pytest.fixture
def connection(owner, workspace):
    domain = join_domain_add(actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER))
    return connection_add(
        actor=owner,
        workspace=workspace,
        name="Acme IdP",
        issuer="https://idp.acme.test",
        client_id="portal",
        client_secret="secret-value",
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
    )


@pytest.fixture
def ops(workspace):
    return make_team(workspace, "Ops")


def claims(email: str, groups=None, claim="groups") -> dict:
    found = {"sub": "x", "email": email, "email_verified": True}
    if groups is not None:
        found[claim] = groups
    return found


def role_of(workspace, email):
    return Membership.objects.get(workspace=workspace, user__email=email).role.key


def in_team(team, email) -> bool:
    return TeamMembership.objects.filter(team=team, membership__user__email=email).exists()


# --- saving the mapping ---------------------------------------------------------------------------


def test_saved_mapping_is_audited_and_read_back(owner, connection, ops):
    connection_mapping_set(actor=owner, connection=connection, group_claim="", text="admins = Admin\n\nops = ops\n")
    assert [str(rule) for rule in GroupRule.objects.all()] == ["admins = Admin", "ops = Ops"]
    connection.refresh_from_db()
    assert connection.group_claim == "groups" and connection.mapping_set_by == owner
    event = AuditEvent.objects.get(action="sso_connection.mapping")
    assert event.after == {"group_claim": "groups", "rules": ["admins = Admin", "ops = Ops"]}
    connection_mapping_set(actor=owner, connection=connection, group_claim="groups", text="admins = admin\nops = Ops")
    assert AuditEvent.objects.filter(action="sso_connection.mapping").count() == 1  # nothing changed


@pytest.mark.parametrize("target", ["Owner", "owner", " OWNER "])
def test_owner_is_never_a_mapped_role(owner, connection, target):
    with pytest.raises(RuleViolation, match="owner"):
        connection_mapping_set(actor=owner, connection=connection, group_claim="groups", text=f"bosses = {target}")
    assert not GroupRule.objects.exists()


def sso_manager(owner, workspace, email="sam@elsewhere.test"):
    """A member who manages single sign-on, roles and teams, but holds nothing else."""
    role = role_save(
        actor=owner,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="SSO managers",
        capabilities={"view_workspace", "manage_sso", "change_member_roles", "manage_teams"},
    )
    return add_member(workspace, role, UserFactory(email=email))


def test_rule_3_applies_to_whoever_saves_it(owner, workspace, connection, ops):
    role_save(
        actor=owner, workspace=workspace, scope=catalog.WORKSPACE, name="Powerful", capabilities={"manage_billing"}
    )
    manager = sso_manager(owner, workspace).user
    with pytest.raises(RuleViolation):
        connection_mapping_set(actor=manager, connection=connection, group_claim="groups", text="x = Powerful")
    with pytest.raises(RuleViolation):
        connection_mapping_set(actor=manager, connection=connection, group_claim="groups", text="x = Admin")
    connection_mapping_set(actor=manager, connection=connection, group_claim="groups", text="x = SSO managers")
    assert GroupRule.objects.count() == 1
    GroupRule.objects.all().delete()
    member = add_member(workspace, catalog.MEMBER, UserFactory(email="mo@elsewhere.test")).user
    with pytest.raises(PermissionDenied):
        connection_mapping_set(actor=member, connection=connection, group_claim="groups", text="x = Viewer")
    assert not GroupRule.objects.exists()


def test_other_workspaces_roles_and_teams_are_unknown(owner, connection):
    other_owner = UserFactory(email="bert@beta.test")
    beta = make_workspace(other_owner, "Beta")
    make_team(beta, "Beta team")
    role_save(actor=other_owner, workspace=beta, scope=catalog.WORKSPACE, name="Beta role", capabilities=set())
    for target in ("Beta team", "Beta role"):
        with pytest.raises(RuleViolation, match="neither a role nor a team"):
            connection_mapping_set(actor=owner, connection=connection, group_claim="groups", text=f"x = {target}")


@pytest.mark.parametrize(
    "text",
    [
        "no equals sign",
        "= Admin",
        "admins =",
        "a\x00b = Admin",
        "admins = Admin\x00",
        "x" * 300 + " = Admin",
        "admins = " + "y" * 300,
        "\ud800 = Admin",
        "\n".join(f"g{i} = Admin" for i in range(300)),
    ],
)
def test_hostile_mapping_text_is_refused(owner, connection, text):
    with pytest.raises(RuleViolation):
        connection_mapping_set(actor=owner, connection=connection, group_claim="groups", text=text)


@pytest.mark.parametrize("claim", ["\x00", "x" * 101, "a\nb"])
def test_hostile_claim_name_is_refused(owner, connection, claim):
    with pytest.raises(RuleViolation):
        connection_mapping_set(actor=owner, connection=connection, group_claim=claim, text="")


# --- the page ---------------------------------------------------------------------------------------


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_page_saves_and_shows_the_mapping(owner, workspace, connection):
    client = page_client(owner)
    url = reverse("sso:mapping", args=[workspace.slug, connection.pk])
    response = client.post(url, {"group_claim": "roles", "text": "admins = Admin"})
    assert response.status_code == 302
    assert "admins = Admin" in client.get(url).content.decode()


@pytest.mark.parametrize(
    "body",
    [
        {"group_claim": "groups", "text": "admins = Owner"},
        {"group_claim": "groups", "text": "a\x00 = Admin"},
        {"group_claim": "\x00", "text": ""},
        {"group_claim": "groups", "text": "x" * 30000},
        {"group_claim": ["a", "b"], "text": ["x = Admin", "y"]},
        {},
    ],
)
def test_hostile_page_input_is_never_an_error(owner, workspace, connection, body):
    url = reverse("sso:mapping", args=[workspace.slug, connection.pk])
    response = page_client(owner).post(url, body)
    assert response.status_code in (200, 302)
    assert not GroupRule.objects.filter(role__key=catalog.OWNER).exists()


def test_another_workspaces_connection_is_a_404(owner, connection):
    other_owner = UserFactory(email="bert@beta.test")
    beta = make_workspace(other_owner, "Beta")
    client = page_client(other_owner)
    assert client.get(reverse("sso:mapping", args=[beta.slug, connection.pk])).status_code == 404
    assert client.post(reverse("sso:mapping", args=[beta.slug, connection.pk]), {"text": ""}).status_code == 404


def test_member_without_manage_sso_gets_403(workspace, connection):
    member = add_member(workspace, catalog.MEMBER, UserFactory(email="mo@elsewhere.test")).user
    assert page_client(member).get(reverse("sso:mapping", args=[workspace.slug, connection.pk])).status_code == 403


# --- at sign-in -------------------------------------------------------------------------------------


def test_first_sign_in_gets_the_mapped_role_and_team(owner, workspace, connection, ops):
    connection_mapping_set(actor=owner, connection=connection, group_claim="groups", text="admins = Admin\nops = Ops")
    sso_sign_in(connection=connection, claims=claims("nina@acme.test", ["admins", "ops"]))
    assert role_of(workspace, "nina@acme.test") == catalog.ADMIN and in_team(ops, "nina@acme.test")
    actions = list(AuditEvent.objects.filter(workspace=workspace).values_list("action", flat=True))
    assert "member.role_change" in actions and "team.member_add" in actions


def test_later_sign_ins_follow_the_groups(owner, workspace, connection, ops):
    connection_mapping_set(actor=owner, connection=connection, group_claim="groups", text="admins = Admin\nops = Ops")
    sso_sign_in(connection=connection, claims=claims("nina@acme.test", ["admins", "ops"]))
    sso_sign_in(connection=connection, claims=claims("nina@acme.test", []))
    assert role_of(workspace, "nina@acme.test") == catalog.ADMIN  # no matching line: the role stays
    assert not in_team(ops, "nina@acme.test")  # a mapped team the claim no longer names
    sso_sign_in(connection=connection, claims=claims("nina@acme.test", "ops"))  # a single value
    assert in_team(ops, "nina@acme.test")


def test_the_first_matching_line_gives_the_role(owner, workspace, connection):
    connection_mapping_set(actor=owner, connection=connection, group_claim="groups", text="a = Viewer\nb = Admin")
    sso_sign_in(connection=connection, claims=claims("nina@acme.test", ["b", "a"]))
    assert role_of(workspace, "nina@acme.test") == catalog.VIEWER


def test_other_claim_name(owner, workspace, connection):
    connection_mapping_set(actor=owner, connection=connection, group_claim="roles", text="a = Viewer")
    sso_sign_in(connection=connection, claims=claims("nina@acme.test", ["a"], claim="groups"))
    assert role_of(workspace, "nina@acme.test") == catalog.MEMBER
    sso_sign_in(connection=connection, claims=claims("nina@acme.test", ["a"], claim="roles"))
    assert role_of(workspace, "nina@acme.test") == catalog.VIEWER


def test_an_owner_is_never_touched(owner, workspace, connection, ops):
    connection_mapping_set(actor=owner, connection=connection, group_claim="groups", text="x = Viewer\nops = Ops")
    second = add_member(workspace, catalog.OWNER, UserFactory(email="oscar@acme.test"))
    sso_sign_in(connection=connection, claims=claims("oscar@acme.test", ["x", "ops"]))
    sso_sign_in(connection=connection, claims=claims("olivia@acme.test", ["x", "ops"]))
    second.refresh_from_db()
    assert second.role.key == catalog.OWNER and role_of(workspace, "olivia@acme.test") == catalog.OWNER
    assert not TeamMembership.objects.filter(team=ops).exists()


def test_a_saver_who_lost_the_right_gives_nothing(owner, workspace, connection):
    manager = sso_manager(owner, workspace)
    connection_mapping_set(actor=manager.user, connection=connection, group_claim="groups", text="x = SSO managers")
    member_change_role(actor=owner, membership=manager, role=builtin_role(catalog.VIEWER))
    sso_sign_in(connection=connection, claims=claims("nina@acme.test", ["x"]))
    assert role_of(workspace, "nina@acme.test") == catalog.MEMBER  # refused by the service, skipped


@pytest.mark.parametrize(
    "groups",
    [{"admins": True}, 42, None, [["admins"]], [{"a": 1}], ["x" * 10000], ["\x00admins"], list(range(5000))],
)
def test_hostile_claims_change_nothing(owner, workspace, connection, groups):
    connection_mapping_set(actor=owner, connection=connection, group_claim="groups", text="admins = Admin")
    sso_sign_in(connection=connection, claims=claims("nina@acme.test", groups))
    assert role_of(workspace, "nina@acme.test") == catalog.MEMBER


def test_mapping_never_reaches_another_workspace(owner, workspace, connection):
    other_owner = UserFactory(email="bert@beta.test")
    beta = make_workspace(other_owner, "Beta")
    nina = UserFactory(email="nina@acme.test")
    add_member(beta, catalog.MEMBER, nina)
    connection_mapping_set(actor=owner, connection=connection, group_claim="groups", text="admins = Admin")
    sso_sign_in(connection=connection, claims=claims("nina@acme.test", ["admins"]))
    assert role_of(beta, "nina@acme.test") == catalog.MEMBER and role_of(workspace, "nina@acme.test") == catalog.ADMIN


def test_a_custom_role_a_connection_or_a_mapping_line_gives_cannot_be_deleted(client, owner, workspace, connection):
    """Deleting it would either fail in the database (a connection's role) or silently drop a line
    of the mapping: the roles page refuses, naming what uses the role."""
    guest = role_save(actor=owner, workspace=workspace, scope=catalog.WORKSPACE, name="Guest", capabilities=set())
    connection_mapping_set(actor=owner, connection=connection, group_claim="groups", text="guests = Guest")
    with pytest.raises(RuleViolation, match="1 group mapping lines"):
        role_delete(actor=owner, role=guest)
    connection_mapping_set(actor=owner, connection=connection, group_claim="groups", text="")
    Connection.objects.filter(pk=connection.pk).update(default_role=guest)
    with pytest.raises(RuleViolation, match="1 single sign-on connections"):
        role_delete(actor=owner, role=guest)
    client.force_login(owner)
    response = client.post(reverse("roles:delete", args=[workspace.slug, guest.pk]), follow=True)
    assert response.status_code == 200 and "in use" in response.content.decode()
    Connection.objects.filter(pk=connection.pk).update(default_role=builtin_role(catalog.MEMBER))
    role_delete(actor=owner, role=guest)
