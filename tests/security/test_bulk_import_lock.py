"""A bulk import does not stop the workspace, and what changes meanwhile cannot slip past it.

``invite_bulk`` runs in one thread; when it is in the middle of writing its rows (the first audit
batch), it pauses until another thread has made a change, or until a generous timeout. Before, the
import held the workspace lock for the whole import, so a role change touching the Owner role waited
for the import and the pause ran into its timeout. Now the lock is taken only for the import's last
short step, which checks again what changed meanwhile and refuses the whole file if needed.

Measured with events in the threads, not with wall-clock thresholds.
"""

import io
import threading

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections

from audit import services as audit_services
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_workspace
from workspaces.invites import staged
from workspaces.invites.services import invite_create, invite_revoke
from workspaces.models import Invite, Membership
from workspaces.people.services import member_add, member_change_role

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs PostgreSQL's row locks; SQLite serialises writers anyway",
    ),
    pytest.mark.django_db(transaction=True),
]

ROWS = 3_000
PAUSE = 20  # seconds the import waits for the other change; only reached when that change is blocked


def _file(tmp_path, rows=ROWS):
    path = tmp_path / "people.csv"
    path.write_text("email,role\n" + "".join(f"person{i}@bulk.test,member\n" for i in range(rows)))
    return path


class PausedImport:
    """Run invite_bulk in a thread; it pauses in the middle of writing (or, with ``at_last_step``,
    holding the invitations lock in its last step) until ``meanwhile`` is done."""

    def __init__(self, monkeypatch, workspace, path, meanwhile, at_last_step=False, email=False):
        self.writing, self.other_done, self.finished = threading.Event(), threading.Event(), threading.Event()
        self.other_done_before_resuming = None
        self.error, self.other_error = None, None
        self.stderr = io.StringIO()
        original = audit_services.record_many

        def record_many(**kwargs):
            if threading.current_thread() is self.importer and not self.writing.is_set():
                self.writing.set()
                self.other_done_before_resuming = self.other_done.wait(PAUSE)
            return original(**kwargs)

        if at_last_step:
            refuse_changes = staged._refuse_changes

            def paused_refuse_changes(*args):
                self.writing.set()
                self.other_done_before_resuming = self.other_done.wait(PAUSE)
                return refuse_changes(*args)

            monkeypatch.setattr(staged, "_refuse_changes", paused_refuse_changes)
        else:
            monkeypatch.setattr(staged, "record_many", record_many)

        def run_import():
            try:
                call_command(
                    "invite_bulk",
                    "--workspace",
                    workspace.slug,
                    "--file",
                    str(path),
                    *([] if email else ["--no-email"]),
                    stdout=io.StringIO(),
                    stderr=self.stderr,
                )
            except CommandError as exc:
                self.error = exc
            finally:
                connections.close_all()
                self.finished.set()

        def run_other():
            try:
                assert self.writing.wait(PAUSE), "the import never started writing"
                meanwhile()
                self.import_finished_first = self.finished.is_set()
            except Exception as exc:  # noqa: BLE001 - asserted by the test
                self.other_error = exc
            finally:
                self.other_done.set()
                connections.close_all()

        self.importer = threading.Thread(target=run_import)
        self.other = threading.Thread(target=run_other)

    def run(self):
        self.importer.start()
        self.other.start()
        self.importer.join()
        self.other.join()
        assert self.other_error is None, self.other_error


@pytest.fixture
def team(db):
    owner = UserFactory(email="owner@acme.test")
    workspace = make_workspace(owner)
    return workspace, owner, add_member(workspace, catalog.ADMIN)


@pytest.mark.parametrize("at_last_step", [False, True], ids=["while-writing", "during-the-last-step"])
def test_a_role_change_touching_the_owner_role_is_answered_while_the_import_runs(
    monkeypatch, tmp_path, team, at_last_step
):
    """Failed before: the role change waited for the import's workspace lock until the import's
    pause timed out, so it was not done before the import resumed."""
    workspace, _, admin = team
    paused = PausedImport(
        monkeypatch,
        workspace,
        _file(tmp_path),
        lambda: member_change_role(actor=None, membership=admin, role=builtin_role(catalog.OWNER)),
        at_last_step=at_last_step,
    )
    paused.run()
    assert paused.other_done_before_resuming, "the role change waited for the import"
    assert not paused.import_finished_first
    assert paused.error is None, paused.stderr.getvalue()
    assert Invite.objects.filter(workspace=workspace, status=Invite.Status.PENDING).count() == ROWS
    assert Membership.objects.get(pk=admin.pk).role.is_owner


def test_an_address_invited_meanwhile_refuses_the_whole_file(monkeypatch, tmp_path, team):
    workspace, owner, _ = team
    paused = PausedImport(
        monkeypatch,
        workspace,
        _file(tmp_path),
        lambda: invite_create(
            actor=owner, workspace=workspace, emails=["Person7@bulk.test"], role=builtin_role(catalog.VIEWER)
        ),
    )
    paused.run()
    assert paused.other_done_before_resuming
    assert paused.error is not None and "person7@bulk.test got an invitation" in str(paused.error)
    assert "Nothing was written" in str(paused.error)
    # Only the invitation made meanwhile exists, with its own role: the file wrote nothing.
    [invite] = Invite.objects.filter(workspace=workspace)
    assert (invite.email, invite.role.key, invite.status) == ("person7@bulk.test", catalog.VIEWER, "pending")


def test_an_address_that_joined_meanwhile_refuses_the_whole_file(monkeypatch, tmp_path, team):
    workspace, _, _ = team
    joiner = UserFactory(email="person42@bulk.test")
    paused = PausedImport(
        monkeypatch,
        workspace,
        _file(tmp_path),
        lambda: member_add(workspace=workspace, user=joiner, role=builtin_role(catalog.MEMBER)),
    )
    paused.run()
    assert paused.other_done_before_resuming
    assert paused.error is not None and "person42@bulk.test joined" in str(paused.error)
    assert not Invite.objects.filter(workspace=workspace).exists()


def test_a_pending_invitation_withdrawn_meanwhile_is_not_refreshed(monkeypatch, tmp_path, team):
    """The file changes the role of a pending invitation; it is withdrawn while the file is written."""
    workspace, owner, _ = team
    [pending] = invite_create(
        actor=owner, workspace=workspace, emails=["person3@bulk.test"], role=builtin_role(catalog.VIEWER)
    ).invited
    paused = PausedImport(monkeypatch, workspace, _file(tmp_path), lambda: invite_revoke(actor=owner, invite=pending))
    paused.run()
    assert paused.other_done_before_resuming
    assert paused.error is not None and "person3@bulk.test changed" in str(paused.error)
    pending.refresh_from_db()
    assert (pending.status, pending.role.key) == ("revoked", catalog.VIEWER)
    assert Invite.objects.filter(workspace=workspace).count() == 1


def test_invitations_sent_meanwhile_count_toward_the_daily_limit(monkeypatch, tmp_path, team, settings):
    """50 rows fit the workspace's limit of 51 when checked; two invitations sent meanwhile do not."""
    settings.INVITE_LIMIT_PER_WORKSPACE_PER_DAY = 51
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    workspace, owner, _ = team
    paused = PausedImport(
        monkeypatch,
        workspace,
        _file(tmp_path, rows=50),
        lambda: invite_create(
            actor=owner, workspace=workspace, emails=["a@other.test", "b@other.test"], role=builtin_role(catalog.MEMBER)
        ),
        email=True,
    )
    paused.run()
    assert paused.other_done_before_resuming
    assert paused.error is not None and "would pass the limit of 51 a day per workspace" in str(paused.error)
    assert sorted(Invite.objects.filter(workspace=workspace).values_list("email", flat=True)) == [
        "a@other.test",
        "b@other.test",
    ]
