"""manage.py invite_bulk: docs/RULES.md 5.2 and rule 8 (a bad row writes nothing and is named)."""

import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site, make_team
from webhooks.models import Event
from workspaces.invites.selectors import invite_for_token
from workspaces.models import Invite, InviteSend, InviteSiteGrant, Membership

LINK = re.compile(r"/invites/([A-Za-z0-9_-]+)/")


class CountingBackend(LocmemBackend):
    """The in-memory backend, counting how many connections were made and opened."""

    made = 0
    opened = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        CountingBackend.made += 1

    def open(self):
        CountingBackend.opened += 1
        return super().open()


@pytest.fixture
def sites_and_teams(workspace):
    make_site(workspace, "Shop")
    make_site(workspace, "Blog")
    make_team(workspace, "Growth")
    make_team(workspace, "Sales, EU")


@pytest.fixture
def run(workspace, tmp_path, django_capture_on_commit_callbacks):
    """Write ``content`` to a file and run the command on it; returns (stdout, stderr).

    On failure the CommandError is raised with the captured output attached."""

    def _run(content, *args, **options):
        path = tmp_path / "people.csv"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        out, err = io.StringIO(), io.StringIO()
        try:
            with django_capture_on_commit_callbacks(execute=True):
                call_command(
                    "invite_bulk", "--workspace", workspace.slug, "--file", str(path), *args, stdout=out, stderr=err
                )
        except CommandError as exc:
            exc.out, exc.err = out.getvalue(), err.getvalue()
            raise
        return out.getvalue(), err.getvalue()

    return _run


def written():
    return {
        "invites": Invite.objects.count(),
        "sends": InviteSend.objects.count(),
        "events": AuditEvent.objects.count(),
        "grants": InviteSiteGrant.objects.count(),
        "teams": Invite.teams.through.objects.count(),
        "mails": len(mail.outbox),
    }


GOOD = "good@example.com,admin,shop:editor,Growth\n"

BAD_FILES = [
    ("bad address", f"email,role,sites,teams\n{GOOD}not-an-address,member,,\n", 3, "is not a valid e-mail address"),
    (
        "unknown role",
        f"email,role,sites,teams\n{GOOD}ann@example.com,chief,,\n",
        3,
        "No workspace role “chief” in Acme",
    ),
    ("unknown site", f"email,role,sites,teams\n{GOOD}ann@example.com,,nowhere:editor,\n", 3, "No site “nowhere”"),
    ("unknown site role", f"email,role,sites,teams\n{GOOD}ann@example.com,,shop:chief,\n", 3, "No site role “chief”"),
    ("bad grant", f"email,role,sites,teams\n{GOOD}ann@example.com,,shop,\n", 3, "“shop” should be site:role"),
    ("unknown team", f"email,role,sites,teams\n{GOOD}ann@example.com,,,Nobody\n", 3, "No team “Nobody” in Acme"),
    ("too many fields", f"email,role\n{GOOD}", 2, "4 fields, but the header names 2 columns"),
    ("no address", f"email,role,sites,teams\n{GOOD},member,,\n", 3, "No e-mail address"),
    ("not UTF-8", f"email,role,sites,teams\n{GOOD}".encode() + b"j\xe9r\xf4me@example.com,,,\n", 3, "Not UTF-8"),
]


@pytest.mark.parametrize(("content", "line", "reason"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_a_bad_row_is_named_and_nothing_is_written(run, sites_and_teams, content, line, reason):
    before = written()
    with pytest.raises(CommandError, match="Nothing was written") as exc:
        run(content)
    assert re.search(rf"^line {line}: .*{re.escape(reason)}", exc.value.err, re.M), exc.value.err
    assert written() == before


def test_duplicate_address_in_another_case_names_both_lines(run):
    before = written()
    with pytest.raises(CommandError, match=r"lines 2, 4\)") as exc:
        run("email\nAnn@Example.com\nbob@example.com\nann@example.COM\n")
    assert "line 2: ann@example.com is also on line 4" in exc.value.err
    assert "line 4: ann@example.com is also on line 2" in exc.value.err
    assert written() == before


def test_role_above_the_inviters_is_refused(run, workspace):
    admin = add_member(workspace, catalog.ADMIN, user=UserFactory(email="admin@acme.test")).user
    before = written()
    with pytest.raises(CommandError) as exc:
        run("email,role\nann@example.com,member\nbob@example.com,Owner\n", "--inviter", admin.email)
    assert "line 3: Only owners can make someone an owner." in exc.value.err
    assert written() == before


def test_inviter_without_invite_capability_is_refused(run, workspace):
    member = add_member(workspace, catalog.MEMBER).user
    with pytest.raises(CommandError, match="You need the “Invite people” capability."):
        run("email\nann@example.com\n", "--inviter", member.email)
    assert written()["invites"] == 0


def test_inviter_must_be_a_member(run):
    with pytest.raises(CommandError, match="--inviter: nobody@example.com is not a member of Acme"):
        run("email\nann@example.com\n", "--inviter", "nobody@example.com")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "The file is empty"),
        ("\n\n", "The file is empty"),
        ("email,role,sites,teams\n", "has a header but no rows"),
        ("ann@example.com,admin\n", "line 1: the first row must be a header"),
        ("mail,role\nann@example.com,admin\n", "line 1: the first row must be a header"),
        (b"em\xffail\nann@example.com\n", "line 1: Not UTF-8"),
    ],
    ids=["empty", "blank lines", "header only", "no header", "wrong header", "header not UTF-8"],
)
def test_unusable_file_is_refused(run, content, message):
    with pytest.raises(CommandError, match=message) as exc:
        run(content)
    assert "Nothing was written" in str(exc.value)
    assert written()["invites"] == 0


def test_missing_file_and_unknown_workspace(workspace):
    with pytest.raises(CommandError, match="Cannot read /nonexistent.csv"):
        call_command("invite_bulk", "--workspace", workspace.slug, "--file", "/nonexistent.csv")
    with pytest.raises(CommandError, match="No workspace with the short name “nope”"):
        call_command("invite_bulk", "--workspace", "nope", "--file", "/nonexistent.csv")


def test_bom_crlf_and_quoted_fields_are_read(run, sites_and_teams, workspace):
    content = (
        b"\xef\xbb\xbfEmail,Role,Sites,Teams\r\n"
        b'"Ann@Example.com","Billing admin","shop:editor;Blog:Site viewer","Growth;Sales, EU"\r\n'
        b'bob@example.com,,"shop:site_admin",\r\n'
    )
    out, err = run(content)
    assert err == ""
    assert "invited 2, refreshed 0, already members 0, invalid 0." in out
    ann = Invite.objects.get(email="ann@example.com")
    assert ann.role.key == catalog.BILLING_ADMIN
    assert sorted(ann.site_grants.values_list("site__slug", "role__key")) == [
        ("blog", catalog.SITE_VIEWER),
        ("shop", catalog.EDITOR),
    ]
    assert sorted(ann.teams.values_list("name", flat=True)) == ["Growth", "Sales, EU"]
    assert Invite.objects.get(email="bob@example.com").role.key == catalog.MEMBER  # the --role default


def test_role_option_sets_the_default(run):
    run("email,role\nann@example.com,\nbob@example.com,admin\n", "--role", "Viewer")
    assert dict(Invite.objects.values_list("email", "role__key")) == {
        "ann@example.com": catalog.VIEWER,
        "bob@example.com": catalog.ADMIN,
    }


def test_unknown_default_role_is_refused(run):
    with pytest.raises(CommandError, match="--role: No workspace role “boss”"):
        run("email\nann@example.com\n", "--role", "boss")


def test_skip_invalid_writes_only_the_good_rows_and_fails(run, sites_and_teams):
    with pytest.raises(CommandError, match=r"2 rows not handled \(lines 3, 5\); the other rows were written") as exc:
        run(
            "email,role\nann@example.com,admin\nbad,admin\nbob@example.com,viewer\ncyd@example.com,chief\n",
            "--skip-invalid",
        )
    assert "invited 2, refreshed 0, already members 0, invalid 2 (lines 3, 5)." in exc.value.out
    assert sorted(Invite.objects.values_list("email", flat=True)) == ["ann@example.com", "bob@example.com"]
    assert len(mail.outbox) == 2
    assert AuditEvent.objects.filter(action="invite.create").count() == 2


def test_dry_run_writes_nothing(run, sites_and_teams):
    before = written()
    out, _ = run("email,sites\nann@example.com,shop:editor\nbob@example.com,\n", "--dry-run")
    assert "Dry run, nothing was written. Would have: invited 2, refreshed 0" in out
    assert "E-mails to send: 2." in out
    assert written() == before


def test_dry_run_still_names_bad_rows(run):
    with pytest.raises(CommandError, match=r"1 row with problems \(line 3\).*Nothing was written") as exc:
        run("email\nann@example.com\nbad\n", "--dry-run")
    assert "line 3: “bad” is not a valid e-mail address." in exc.value.err


def test_one_mail_per_invitation_one_connection_per_mail_task(run, settings):
    settings.EMAIL_BACKEND = "tests.test_cmd_invite_bulk.CountingBackend"
    CountingBackend.made = CountingBackend.opened = 0
    rows = "".join(f"person{i}@example.com\n" for i in range(150))  # more than one send chunk
    out, _ = run("email\n" + rows)
    assert len(mail.outbox) == 150
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"person{i}@example.com" for i in range(150))
    # Queued in tasks of 100 messages (kernel.mail.CHUNK), each sent over its own connection.
    assert (CountingBackend.made, CountingBackend.opened) == (2, 2)
    assert InviteSend.objects.count() == 150
    assert "Queued 150 of 150 e-mails." in out
    # Each link opens its own invitation.
    token = LINK.search(mail.outbox[0].body).group(1)
    assert invite_for_token(token).email == mail.outbox[0].to[0]


def test_rerunning_the_same_file_is_safe(run, sites_and_teams, workspace):
    content = "email,role,sites,teams\nann@example.com,admin,shop:editor,Growth\nbob@example.com,viewer,,\n"
    run(content)
    first = written()
    tokens = [LINK.search(m.body).group(1) for m in mail.outbox]
    out, _ = run(content)
    assert "invited 0, refreshed 2, already members 0, invalid 0." in out
    assert written() == first  # no new invitation, grant, team link, e-mail, send or audit event
    assert all(invite_for_token(t) is not None for t in tokens)  # the links still work

    # Once Ann joined, she is reported as a member; a changed row updates Bob without mailing him.
    ann = UserFactory(email="ann@example.com")
    add_member(workspace, catalog.ADMIN, user=ann)
    out, _ = run(content.replace("bob@example.com,viewer,,", "bob@example.com,member,blog:editor,"))
    assert "invited 0, refreshed 1, already members 1, invalid 0." in out
    bob = Invite.objects.get(email="bob@example.com")
    assert bob.role.key == catalog.MEMBER
    assert list(bob.site_grants.values_list("site__slug", flat=True)) == ["blog"]
    assert len(mail.outbox) == 2 and invite_for_token(tokens[1]) == bob
    assert AuditEvent.objects.filter(action="invite.refresh", target_id=str(bob.pk)).count() == 1


def test_rerun_renews_and_mails_an_expired_link(run):
    run("email\nann@example.com\nbob@example.com\n")
    Invite.objects.filter(email="ann@example.com").update(expires_at=timezone.now() - timedelta(days=1))
    run("email\nann@example.com\nbob@example.com\n")
    assert [m.to for m in mail.outbox] == [["ann@example.com"], ["bob@example.com"], ["ann@example.com"]]
    ann = Invite.objects.get(email="ann@example.com")
    assert ann.expires_at > timezone.now() and ann.send_count == 2
    assert invite_for_token(LINK.search(mail.outbox[-1].body).group(1)) == ann


def test_no_email_then_a_run_with_email_mails_once(run):
    out, _ = run("email\nann@example.com\n", "--no-email")
    assert "No e-mails were sent (--no-email)." in out
    assert mail.outbox == [] and InviteSend.objects.count() == 0
    assert Invite.objects.get().send_count == 0
    run("email\nann@example.com\n")
    run("email\nann@example.com\n")
    assert len(mail.outbox) == 1 and Invite.objects.get().send_count == 1


def test_already_members_are_reported_and_the_run_succeeds(run, workspace, owner):
    out, _ = run("email\nOWNER@acme.test\nann@example.com\n")
    assert "invited 1, refreshed 0, already members 1, invalid 0." in out
    assert not Invite.objects.filter(email="owner@acme.test").exists()
    assert Membership.objects.filter(workspace=workspace).count() == 1


def test_inviters_daily_limit_refuses_the_batch(run, workspace, settings):
    settings.INVITE_LIMIT_PER_INVITER_PER_DAY = 2
    admin = add_member(workspace, catalog.ADMIN, user=UserFactory(email="admin@acme.test")).user
    before = written()
    with pytest.raises(CommandError, match="3 more would pass the limit of 2 a day per person"):
        run("email\na@example.com\nb@example.com\nc@example.com\n", "--inviter", admin.email)
    assert written() == before
    # Without e-mails nothing is sent, so nothing counts toward the limits.
    run("email\na@example.com\nb@example.com\nc@example.com\n", "--inviter", admin.email, "--no-email")
    assert Invite.objects.filter(invited_by=admin).count() == 3


def test_workspace_daily_limit_applies_to_the_system_too(run, settings):
    settings.INVITE_LIMIT_PER_WORKSPACE_PER_DAY = 2
    with pytest.raises(CommandError, match="3 more would pass the limit of 2 a day per workspace"):
        run("email\na@example.com\nb@example.com\nc@example.com\n")
    assert written()["invites"] == 0


def test_address_limit_names_the_row(run, settings, workspace):
    settings.INVITE_LIMIT_PER_ADDRESS_PER_DAY = 1
    InviteSend.objects.create(workspace=workspace, email="Bob@example.com")
    with pytest.raises(CommandError) as exc:
        run("email\nann@example.com\nbob@example.com\n")
    assert "line 3: bob@example.com has received 1 invitation in the last 24 hours" in exc.value.err
    assert written()["invites"] == 0


def test_verbosity(run):
    out, _ = run("email\nann@example.com\n", "--verbosity", "0")
    assert out == ""
    out, _ = run("email\nbob@example.com\n", "--verbosity", "2")
    assert "invited          bob@example.com (Member)" in out


def test_progress_bar_on_a_terminal(run, monkeypatch, capsys):
    import sys

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    run("email\nann@example.com\n")
    shown = capsys.readouterr().out
    assert "Reading" in shown and "Queueing" in shown


def test_help_explains_the_file():
    from workspaces.management.commands.invite_bulk import Command

    help_text = Command().create_parser("manage.py", "invite_bulk").format_help()
    for words in ("slug:role;slug:role", "header row", "--skip-invalid", "--dry-run", "--no-email", "safe"):
        assert words in help_text


def _query_count(run, rows: int, prefix: str, *args) -> int:
    content = "email,role,sites,teams\n" + "".join(
        f"{prefix}{i}@example.com,{'viewer' if i % 2 else 'member'},shop:editor;blog:site viewer,Growth\n"
        for i in range(rows)
    )
    with CaptureQueriesContext(connection) as queries:
        run(content, *args)
    return len(queries)


def _insert_batches(rows: int) -> int:
    """INSERT statements the backend needs for one run's bulk writes: SQLite caps a statement at 999
    parameters, so Django splits big inserts; PostgreSQL takes each table in one statement."""
    counts = {
        Invite: rows,
        InviteSiteGrant: 2 * rows,
        Invite.teams.through: rows,
        AuditEvent: rows,
        Event: rows,  # the webhook outbox: one event per audit event
        InviteSend: rows,
    }
    total = 0
    for model, n in counts.items():
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        size = connection.ops.bulk_batch_size(fields, [None] * n) or n
        total += -(-n // size)
    return total


def test_query_count_does_not_grow_with_rows(run, sites_and_teams, workspace, settings):
    settings.INVITE_LIMIT_PER_WORKSPACE_PER_DAY = settings.INVITE_LIMIT_PER_INVITER_PER_DAY = 1000
    admin = add_member(workspace, catalog.ADMIN, user=UserFactory(email="admin@acme.test")).user
    small = _query_count(run, 10, "a", "--inviter", admin.email)
    large = _query_count(run, 200, "b", "--inviter", admin.email)
    # The only growth allowed is the backend splitting one bulk INSERT into several.
    assert large - small == _insert_batches(200) - _insert_batches(10)
    assert Invite.objects.count() == 210 and len(mail.outbox) == 210


def test_builtin_roles_resolve_by_key_or_name(run):
    run("email,role\na@example.com,billing_admin\nb@example.com,BILLING ADMIN\nc@example.com,Owner\n")
    assert dict(Invite.objects.values_list("email", "role__key")) == {
        "a@example.com": catalog.BILLING_ADMIN,
        "b@example.com": catalog.BILLING_ADMIN,
        "c@example.com": catalog.OWNER,
    }
    assert builtin_role(catalog.OWNER).invites.count() == 1


def test_a_large_file_is_streamed_and_rerun_safely(run, sites_and_teams):
    rows = "".join(f"person{i}@example.com,{'viewer' if i % 2 else 'member'},shop:editor,Growth\n" for i in range(3000))
    out, _ = run("email,role,sites,teams\n" + rows, "--no-email")
    assert "invited 3000, refreshed 0" in out
    before = written()
    out, _ = run("email,role,sites,teams\n" + rows, "--no-email")
    assert "invited 0, refreshed 3000" in out
    assert written() == before


def test_a_50_mb_file_is_refused_before_reading_and_writes_nothing(run, sites_and_teams):
    row = b"someone@example.com,member,shop:editor,Growth\n"
    content = b"email,role,sites,teams\n" + row * (50_000_000 // len(row) + 1)
    before = written()
    with pytest.raises(CommandError) as refused:
        run(content, "--no-email")
    message = str(refused.value)
    assert "50.0 MB" in message and "INVITE_BULK_MAX_BYTES" in message and "Nothing was written" in message
    assert written() == before
