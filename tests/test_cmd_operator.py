"""manage.py export_members, transfer_ownership and purge_expired_invites (docs/RULES.md 5.2)."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_team, make_workspace
from workspaces.invites.services import invite_create
from workspaces.models import Invite, Membership
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# --- export_members ------------------------------------------------------------------------------


@pytest.fixture
def staffed(workspace):
    """Acme with a site, a team, and Ann (Member) holding an editor grant and the team."""
    site = make_site(workspace, "Shop")
    team = make_team(workspace, "Growth")
    ann = add_member(workspace, catalog.MEMBER, user=UserFactory(email="ann@example.com", full_name="Ann Anders"))
    site_grant_set(actor=None, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), membership=ann)
    team_add_member(actor=None, team=team, membership=ann)
    return workspace


def test_export_csv(staffed):
    rows = list(csv.DictReader(io.StringIO(run("export_members", "--workspace", "acme"))))
    assert [r["email"] for r in rows] == ["ann@example.com", "owner@acme.test"]
    ann = rows[0]
    assert ann["name"] == "Ann Anders" and ann["role"] == "Member"
    assert ann["sites"] == "shop:Editor" and ann["teams"] == "Growth"
    joined = Membership.objects.get(user__email="ann@example.com").joined_at
    assert ann["joined"] == joined.isoformat()
    assert rows[1]["role"] == "Owner" and rows[1]["sites"] == "" and rows[1]["teams"] == ""


def test_export_json(staffed):
    members = json.loads(run("export_members", "--workspace", "acme", "--format", "json"))
    assert members[0] == {
        "email": "ann@example.com",
        "name": "Ann Anders",
        "role": "Member",
        "sites": ["shop:Editor"],
        "teams": ["Growth"],
        "joined": Membership.objects.get(user__email="ann@example.com").joined_at.isoformat(),
    }


def test_export_shows_only_that_workspace(staffed):
    other = make_workspace(UserFactory(email="zed@other.test"), "Other")
    add_member(other, catalog.ADMIN, user=UserFactory(email="yan@other.test"))
    output = run("export_members", "--workspace", "acme")
    assert "other.test" not in output


def test_export_runs_a_fixed_number_of_queries(staffed, django_assert_num_queries):
    site = make_site(staffed, "Blog")
    team = make_team(staffed, "Ops")

    def grow(n):
        for _ in range(n):
            m = add_member(staffed, catalog.VIEWER)
            site_grant_set(actor=None, site=site, role=builtin_role(catalog.SITE_VIEWER, catalog.SITE), membership=m)
            team_add_member(actor=None, team=team, membership=m)

    with django_assert_num_queries(4):  # workspace, members, their grants, their teams
        small = run("export_members", "--workspace", "acme")
    grow(10)
    with django_assert_num_queries(4):
        large = run("export_members", "--workspace", "acme", "--format", "json")
    assert small.count("\n") == 3 and len(json.loads(large)) == 12


def test_export_unknown_workspace(db):
    with pytest.raises(CommandError, match="No workspace with the short name “nope”"):
        run("export_members", "--workspace", "nope")


# --- transfer_ownership --------------------------------------------------------------------------


def test_transfer_makes_an_owner(workspace, owner):
    ann = add_member(workspace, catalog.ADMIN, user=UserFactory(email="ann@example.com"))
    output = run("transfer_ownership", "--workspace", "acme", "--to", "ANN@example.com")
    assert "ann@example.com is now an owner of Acme." in output
    ann.refresh_from_db()
    assert ann.role.is_owner
    assert Membership.objects.get(workspace=workspace, user=owner).role.is_owner
    assert AuditEvent.objects.filter(action="ownership.grant", actor=None).count() == 1


def test_transfer_with_step_down(workspace, owner):
    add_member(workspace, catalog.MEMBER, user=UserFactory(email="ann@example.com"))
    output = run("transfer_ownership", "--workspace", "acme", "--to", "ann@example.com", "--step-down", owner.email)
    assert "owner@acme.test stepped down to Admin." in output
    roles = dict(Membership.objects.filter(workspace=workspace).values_list("user__email", "role__key"))
    assert roles == {"ann@example.com": catalog.OWNER, "owner@acme.test": catalog.ADMIN}
    assert AuditEvent.objects.filter(action="ownership.step_down", actor=owner).count() == 1


def test_transfer_refusals(workspace, owner):
    add_member(workspace, catalog.ADMIN, user=UserFactory(email="adam@example.com"))
    UserFactory(email="stranger@example.com")
    with pytest.raises(CommandError, match="--to: stranger@example.com is not a member of Acme"):
        run("transfer_ownership", "--workspace", "acme", "--to", "stranger@example.com")
    with pytest.raises(CommandError, match="--step-down: adam@example.com is not an owner of Acme"):
        run("transfer_ownership", "--workspace", "acme", "--to", owner.email, "--step-down", "adam@example.com")
    with pytest.raises(CommandError, match="owner@acme.test is already an owner of Acme"):
        run("transfer_ownership", "--workspace", "acme", "--to", owner.email, "--step-down", owner.email)
    with pytest.raises(CommandError, match="No workspace"):
        run("transfer_ownership", "--workspace", "nope", "--to", owner.email)
    assert dict(Membership.objects.filter(workspace=workspace).values_list("user__email", "role__key")) == {
        "adam@example.com": catalog.ADMIN,
        "owner@acme.test": catalog.OWNER,
    }


def test_transfer_to_a_deactivated_account_is_refused(workspace):
    ann = add_member(workspace, catalog.ADMIN, user=UserFactory(email="ann@example.com", is_active=False))
    with pytest.raises(CommandError, match="deactivated"):
        run("transfer_ownership", "--workspace", "acme", "--to", "ann@example.com")
    ann.refresh_from_db()
    assert ann.role.key == catalog.ADMIN


# --- purge_expired_invites -----------------------------------------------------------------------


@pytest.fixture
def old_invites(workspace, owner):
    invite_create(
        actor=owner, workspace=workspace, emails=["old@x.test", "new@x.test"], role=builtin_role(catalog.MEMBER)
    )
    Invite.objects.filter(email="old@x.test").update(expires_at=timezone.now() - timedelta(days=31))


def test_purge_prints_the_count(old_invites):
    assert "1 expired invitation(s) would be deleted (dry run)." in run("purge_expired_invites", "--dry-run")
    assert Invite.objects.count() == 2
    assert "Deleted 1 invitation(s) expired more than 30 days ago." in run("purge_expired_invites")
    assert list(Invite.objects.values_list("email", flat=True)) == ["new@x.test"]
    assert run("purge_expired_invites", "--verbosity", "0") == "0\n"


def test_purge_days_option(old_invites):
    Invite.objects.filter(email="new@x.test").update(expires_at=timezone.now() - timedelta(days=2))
    assert "Deleted 2 invitation(s)" in run("purge_expired_invites", "--days", "1")
    with pytest.raises(CommandError, match="--days cannot be negative"):
        run("purge_expired_invites", "--days", "-1")


@pytest.mark.parametrize("command", ["export_members", "transfer_ownership", "purge_expired_invites"])
def test_help_is_there(command):
    from django.core.management import load_command_class

    parser = load_command_class("workspaces", command).create_parser("manage.py", command)
    assert len(parser.description) > 60
