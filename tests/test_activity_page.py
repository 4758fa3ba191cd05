"""The activity page (docs/RULES.md 4.8): the workspace's events, newest first, in words,
filtered by person, action and dates, 50 a page at a fixed number of queries, read-only, and only
for ``view_member_activity``."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import record
from audit.wording import ACTION_WORDS
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_workspace
from workspaces.overview.services import workspace_update
from workspaces.people.services import member_change_role


def url(workspace, **query) -> str:
    base = reverse("activity:index", args=[workspace.slug])
    if query:
        from urllib.parse import urlencode

        return f"{base}?{urlencode(query)}"
    return base


def rows(response) -> int:
    """Event rows on the page (the header row excluded)."""
    return response.content.decode().count("<tr>") - 1


def backdate_every_event(when: datetime) -> None:
    """Tests only: move the events already logged (the workspace's creation) out of the way. The log is
    append-only, on PostgreSQL in the database too: only the superuser the tests run as can switch its
    trigger off, for this transaction."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        AuditEvent.objects.all().update(created_at=when)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def event_at(workspace, when: datetime, action="team.create", actor_email="ann@acme.test", target="Growth"):
    """An event at a fixed moment (services stamp 'now'); appending rows is all the log allows."""
    return AuditEvent.objects.create(
        workspace=workspace,
        workspace_name=workspace.name,
        actor_email=actor_email,
        action=action,
        target_type="team",
        target_id="1",
        target_repr=target,
        after={"name": target},
        created_at=when,
    )


def test_the_page_is_under_the_workspace(workspace):
    assert url(workspace) == f"/w/{workspace.slug}/activity/"


def test_events_newest_first_in_words_with_before_and_after(client, workspace, owner):
    member = add_member(workspace, catalog.MEMBER, UserFactory(email="mia@acme.test"))
    member_change_role(actor=owner, membership=member, role=builtin_role(catalog.VIEWER))
    workspace_update(actor=owner, workspace=workspace, name="Acme Labs", time_zone="UTC")
    client.force_login(owner)
    response = client.get(url(workspace))
    assert response.status_code == 200
    page = response.content.decode()
    assert [row.action for row in response.context["rows"]] == [
        "Changed the workspace details",
        "Changed a member's role",
        "Joined the workspace",
        "Created the workspace",
    ]
    table = page[page.index("<table") :]
    assert table.index("Changed the workspace details") < table.index("Created the workspace")
    role_change = response.context["rows"][1]
    assert role_change.actor == owner.email
    assert role_change.target == "mia@acme.test"  # a membership is named by its person
    changed = {c.name: (c.before, c.after) for c in role_change.changes if c.kind == "changed"}
    assert changed == {"role": ("Member", "Viewer")}
    assert 'Member <span aria-label="changed to">→</span> Viewer' in page
    assert 'name:</span>\n            Acme <span aria-label="changed to">→</span> Acme Labs' in page


def test_time_is_shown_in_the_workspace_time_zone(client, workspace, owner):
    workspace_update(actor=owner, workspace=workspace, name=workspace.name, time_zone="Asia/Tokyo")
    backdate_every_event(datetime(2020, 1, 1, tzinfo=UTC))  # keep the new one first
    event_at(workspace, datetime(2024, 3, 1, 23, 30, tzinfo=UTC))
    client.force_login(owner)
    page = client.get(url(workspace)).content.decode()
    assert "2 Mar 2024, 08:30:00" in page  # UTC+9
    assert 'datetime="2024-03-02T08:30:00+09:00"' in page


def test_system_events_and_unknown_actions_still_read(client, workspace, owner):
    record(action="widget.frobnicate", workspace=workspace, after={"enabled": True, "tags": ["a", "b"]})
    client.force_login(owner)
    row = client.get(url(workspace)).context["rows"][0]
    assert row.actor == "system"
    assert row.action == "Widget: frobnicate"
    assert {c.name: c.after for c in row.changes} == {"enabled": "yes", "tags": "a, b"}  # jsonb keeps no order


def test_only_this_workspaces_events(client, workspace, owner):
    other = make_workspace(UserFactory(email="boss@other.test"), "Other corp")
    record(action="team.create", workspace=other, actor=owner_of_other(other), after={"name": "Secret team"})
    client.force_login(owner)
    page = client.get(url(workspace)).content.decode()
    assert "Secret team" not in page and "boss@other.test" not in page and "Other corp" not in page


def owner_of_other(other):
    return other.memberships.get().user


@pytest.fixture
def log(workspace):
    """Six events over three days from two people, in a UTC workspace."""
    day = datetime(2024, 5, 10, 12, tzinfo=UTC)
    backdate_every_event(day - timedelta(days=30))
    for n, (who, action) in enumerate(
        [
            ("ann@acme.test", "team.create"),
            ("ann@acme.test", "team.delete"),
            ("bob@acme.test", "team.create"),
            ("bob@acme.test", "site.create"),
            ("annabel@acme.test", "team.create"),
            ("ann@acme.test", "site.create"),
        ]
    ):
        event_at(workspace, day + timedelta(days=n // 2), action=action, actor_email=who, target=f"Thing {n}")
    return day


@pytest.mark.parametrize(
    ("query", "targets"),
    [
        ({"person": "ann"}, {"Thing 0", "Thing 1", "Thing 4", "Thing 5"}),
        ({"person": "ANN@acme.test", "match": "exact"}, {"Thing 0", "Thing 1", "Thing 5"}),
        ({"person": "bob", "action": "site.create"}, {"Thing 3"}),
        ({"action": "team.create"}, {"Thing 0", "Thing 2", "Thing 4"}),
        ({"since": "2024-05-11", "until": "2024-05-11"}, {"Thing 2", "Thing 3"}),
        ({"since": "2024-05-12"}, {"Thing 4", "Thing 5"}),
        ({"until": "2024-05-10", "person": "ann"}, {"Thing 0", "Thing 1"}),
    ],
)
def test_filters(client, workspace, owner, log, query, targets):
    client.force_login(owner)
    response = client.get(url(workspace, **query))
    assert response.status_code == 200
    assert {row.target for row in response.context["rows"]} == targets


def test_dates_are_days_in_the_workspace_time_zone(client, workspace, owner):
    workspace_update(actor=owner, workspace=workspace, name=workspace.name, time_zone="America/New_York")
    event_at(workspace, datetime(2024, 5, 11, 2, tzinfo=UTC), target="Late on the 10th")  # 22:00 on the 10th there
    client.force_login(owner)
    found = client.get(url(workspace, since="2024-05-10", until="2024-05-10")).context["rows"]
    assert [row.target for row in found] == ["Late on the 10th"]
    assert not client.get(url(workspace, since="2024-05-11", until="2024-05-11")).context["rows"]


def test_the_action_filter_offers_every_action_the_portal_records(client, workspace, owner, log):
    """Listed from the wording table, not from a DISTINCT over the log (which grows without end)."""
    client.force_login(owner)
    form = client.get(url(workspace)).context["form"]
    offered = dict(form.fields["action"].widget.choices)
    assert offered == {"": "Any action", **ACTION_WORDS}
    for action in ("site.create", "team.create", "team.delete", "workspace.create"):  # the ones in the log
        assert action in offered


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "2024-05-12", "until": "2024-05-10"}, "The last day must not be before the first day."),
        ({"since": "someday"}, "Enter a valid date."),
        ({"action": "<script>"}, "Choose an action from the list."),
    ],
)
def test_bad_filters_say_what_is_wrong_and_show_no_rows(client, workspace, owner, log, query, message):
    client.force_login(owner)
    response = client.get(url(workspace, **query))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "rows" not in response.context and rows(response) == -1  # no table at all
    assert "<script>" not in response.content.decode()


def _link(response, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', response.content.decode())
    return html.unescape(found.group(1)) if found else None


def test_pages_of_fifty_keep_the_filters(client, workspace, owner):
    when = datetime(2024, 1, 1, tzinfo=UTC)
    for n in range(120):
        event_at(workspace, when + timedelta(minutes=n), target=f"Team {n}")
    client.force_login(owner)
    page_url = reverse("activity:index", args=[workspace.slug])
    first = client.get(url(workspace, action="team.create"))
    assert rows(first) == 50
    assert first.context["rows"][0].target == "Team 119"
    assert _link(first, "prev") is None
    second = client.get(page_url + _link(first, "next"))
    assert "action=team.create" in _link(first, "next")
    third = client.get(page_url + _link(second, "next"))
    assert rows(third) == 20 and third.context["rows"][-1].target == "Team 0"
    assert _link(third, "next") is None  # the oldest page
    back = client.get(page_url + _link(third, "prev"))
    assert [r.target for r in back.context["rows"]] == [r.target for r in second.context["rows"]]
    nonsense = client.get(url(workspace, action="team.create", before="nonsense"))
    assert nonsense.context["rows"][0].target == "Team 119"  # a bad cursor starts from the newest
    export = third.context["export_url"]
    assert export == reverse("activity:export", args=[workspace.slug]) + "?action=team.create"


def test_events_of_one_batch_share_a_time_and_page_by_id(client, workspace, owner):
    """A bulk import writes its events with one time: the id orders them, and no event is skipped
    or shown twice across pages."""
    when = datetime(2024, 1, 1, tzinfo=UTC)
    for n in range(75):
        event_at(workspace, when, target=f"Team {n}")
    client.force_login(owner)
    page_url = reverse("activity:index", args=[workspace.slug])
    first = client.get(url(workspace, action="team.create"))
    second = client.get(page_url + _link(first, "next"))
    seen = [r.target for r in first.context["rows"]] + [r.target for r in second.context["rows"]]
    assert sorted(seen) == sorted(f"Team {n}" for n in range(75))
    assert len(set(seen)) == 75


# session, user, membership with its workspace, workspace permissions, the page (no count, no
# DISTINCT over the log: the action filter lists the actions the portal knows)
PAGE_QUERIES = 5


@pytest.mark.parametrize("size", [5, 300])
def test_query_count_does_not_grow_with_events_or_members(client, workspace, owner, django_assert_num_queries, size):
    when = datetime(2024, 1, 1, tzinfo=UTC)
    users = UserFactory.create_batch(size)
    for user in users:
        add_member(workspace, catalog.MEMBER, user)
    for n in range(size):
        event_at(workspace, when + timedelta(minutes=n), actor_email=users[n].email, target=f"Team {n}")
    client.force_login(owner)
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(url(workspace))
    assert rows(response) == min(50, 2 * size + 1)
    cursor = response.context["page"].older
    with django_assert_num_queries(PAGE_QUERIES):
        filtered = client.get(url(workspace, person="example.com", since="2024-01-01", before=cursor))
    # the events older than the first page's last one: all but the newest fifty
    assert rows(filtered) == (0 if size == 5 else 50) or size == 5


def test_admin_sees_the_page_and_the_nav_link(client, workspace):
    admin = add_member(workspace, catalog.ADMIN).user
    client.force_login(admin)
    response = client.get(url(workspace))
    assert response.status_code == 200
    assert f'href="{url(workspace)}" aria-current="page">Activity</a>' in response.content.decode()


@pytest.mark.parametrize("role", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_roles_without_the_capability_get_403_and_no_link(client, workspace, role):
    client.force_login(add_member(workspace, role).user)
    assert client.get(url(workspace)).status_code == 403
    assert client.get(reverse("activity:export", args=[workspace.slug])).status_code == 403
    overview = client.get(reverse("workspaces:detail", args=[workspace.slug])).content.decode()
    assert url(workspace) not in overview


def test_a_refused_role_gets_in_once_it_holds_the_capability(client, workspace, owner):
    from permissions.services import role_save

    auditor = role_save(
        actor=owner,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Auditor",
        capabilities={"view_member_activity"},
    )
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(member.user)
    assert client.get(url(workspace)).status_code == 403
    member_change_role(actor=owner, membership=member, role=auditor)
    assert client.get(url(workspace)).status_code == 200


def test_non_members_get_404_and_anonymous_people_sign_in(client, workspace):
    client.force_login(UserFactory())
    assert client.get(url(workspace)).status_code == 404
    assert client.get(reverse("activity:export", args=[workspace.slug])).status_code == 404
    assert client.get("/w/no-such-place/activity/").status_code == 404
    client.logout()
    response = client.get(url(workspace))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_read_only_nothing_to_post_edit_or_delete(client, workspace, owner):
    client.force_login(owner)
    before = list(AuditEvent.objects.values_list("id", "action", "before", "after"))
    page = client.get(url(workspace)).content.decode()
    main = page[page.index('<main id="main"') :]
    assert 'method="post"' not in main.lower()
    for verb in ("Edit", "Delete", "Remove"):
        assert f">{verb}<" not in main
    for target in (url(workspace), reverse("activity:export", args=[workspace.slug])):
        assert client.post(target, {"action": "x"}).status_code == 405
        assert client.put(target).status_code == 405
        assert client.delete(target).status_code == 405
    assert list(AuditEvent.objects.values_list("id", "action", "before", "after")) == before


def test_every_action_the_services_record_has_words():
    """The page says actions in words; a new action gets its words in ``audit/wording.py``."""
    import re
    from pathlib import Path

    from django.conf import settings

    from audit.wording import ACTION_WORDS

    base = Path(settings.BASE_DIR)
    found = set()
    for app in (
        "accounts",
        "billing",
        "permissions",
        "privacy",
        "scim",
        "sso",
        "twofactor",
        "webhooks",
        "workspace_settings",
        "workspaces",
    ):
        for path in (base / app).rglob("*.py"):
            if "migrations" not in path.parts:
                found |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text()))
    assert found, "the search found the services' actions"
    workspace_actions = {action for action in found if not action.startswith("account.")}  # not on this page
    assert workspace_actions - set(ACTION_WORDS) == set()
