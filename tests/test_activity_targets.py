"""The activity page names targets in words ("join domain demo.test", "site Shop", "member
ann@example.com"), from one mapping of target types (audit.wording.TARGET_WORDS), at a fixed number
of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.urls import reverse

from audit.models import AuditEvent
from audit.wording import RETIRED_TARGET_WORDS, TARGET_WORDS, target_label, target_type_label
from permissions import catalog
from permissions.roles import builtin_role
from tests.factories import UserFactory, add_member, make_site
from workspaces.people.services import member_change_role

PROJECT_APPS = (
    "accounts",
    "workspaces",
    "permissions",
    "audit",
    "workspace_settings",
    "billing",
    "privacy",
    "twofactor",
    "sso",
    "webhooks",
    "background",
    "scim",
)
# Rows no service names as an event's target: throttling counters, the derived permission rows and
# the groups that carry them, team and viewer-group rows (their team or group is the target), the
# log itself.
NEVER_A_TARGET = {
    "accessversion",  # the check cache's per-workspace counter, changed by database triggers
    "event",  # the webhooks outbox: a copy of an audit event, for delivery
    "delivery",  # a webhook delivery and its attempts: the endpoint is the target
    "attempt",
    "failedtask",  # a background task that gave up: an operational record for the admin
    "throttlehit",
    "samlassertion",  # a used assertion ID, kept against replays; the connection is the target
    "emailchange",  # an address change is recorded on the account
    "accesskeydailyuse",  # a count of uses, not a change
    "invitesend",
    "invitesitegrant",
    "teammembership",
    "scimgroupmember",  # the team is the target
    "scimgroup",  # a team's externalId, kept for the provider; the team is the target
    "viewergroupmember",
    "rolegroup",
    "auditevent",
    "ssorequirement",  # the workspace is the target of a change of the requirement
    "grouprule",  # its connection is the target
    "workspaceuserpermission",
    "workspacegrouppermission",
    "siteuserpermission",
    "sitegrouppermission",
    "experienceuserpermission",
    "experiencegrouppermission",
}


def _event(workspace, target_type: str, target_repr: str, minute: int = 0, **state) -> AuditEvent:
    return AuditEvent.objects.create(
        workspace=workspace,
        workspace_name=workspace.name,
        actor_email="ann@example.com",
        action="join_domain.add",
        target_type=target_type,
        target_id="1",
        target_repr=target_repr,
        created_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=minute),
        **state,
    )


def _target_cells(html: str) -> list[str]:
    """The text of each row's Target cell (the fourth)."""
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    cells = []
    for row in body.split("<tr>")[1:]:
        cell = row.split("<td>")[4].split("</td>")[0]
        cells.append(" ".join(cell.replace('<span class="muted">', "").replace("</span>", "").split()))
    return cells


def test_every_model_that_can_be_a_target_has_words():
    models = {m._meta.model_name for m in apps.get_models() if m._meta.app_label in PROJECT_APPS}
    assert models - NEVER_A_TARGET - set(TARGET_WORDS) == set()
    for target_type in TARGET_WORDS:
        assert target_type in models, f"{target_type} is not a model any more"
        assert "_" not in TARGET_WORDS[target_type]
    for target_type in RETIRED_TARGET_WORDS:  # past events of removed models still read
        assert target_type not in models and target_type not in TARGET_WORDS
        assert target_type_label(target_type) == RETIRED_TARGET_WORDS[target_type]


@pytest.mark.parametrize(
    "target_type, target_repr, state, words",
    [
        ("joindomain", "demo.test", {}, "join domain demo.test"),
        ("site", "Shop", {}, "site Shop"),
        ("membership", "7 in 3", {"after": {"user": "ann@example.com"}}, "member ann@example.com"),
        (
            "invite",
            "Invite for bo@example.com",
            {"before": {"email": "bo@example.com"}},
            "invitation to bo@example.com",
        ),
        ("accesskey", "CI (pk_ab…)", {}, "access key CI (pk_ab…)"),
        ("viewergroup", "Press", {}, "viewer group Press"),
        ("billingaccount", "Billing of workspace 3", {}, "billing details"),
        ("datarequest", "Data export request 4", {}, "Data export request 4"),
        ("brandnewthing", "X", {}, "brandnewthing X"),  # a type added later still reads
    ],
)
def test_target_words(target_type, target_repr, state, words):
    word = target_type_label(target_type)
    name = target_label(target_type, target_repr, state.get("before"), state.get("after"))
    assert " ".join(part for part in (word, name) if part) == words


def test_the_page_shows_targets_in_words(client, workspace, owner):
    member = add_member(workspace, catalog.MEMBER, UserFactory(email="mia@example.com"))
    member_change_role(actor=owner, membership=member, role=builtin_role(catalog.VIEWER))
    make_site(workspace, name="Shop")
    client.force_login(owner)
    response = client.get(reverse("activity:index", args=[workspace.slug]))
    html = response.content.decode()
    cells = _target_cells(html)
    assert "site Shop" in cells
    assert "member mia@example.com" in cells
    assert "joindomain" not in html and "membership" not in " ".join(cells)


def test_join_domain_targets_read_as_words(client, workspace, owner):
    _event(workspace, "joindomain", "demo.test")
    client.force_login(owner)
    html = client.get(reverse("activity:index", args=[workspace.slug])).content.decode()
    assert "join domain demo.test" in _target_cells(html)
    assert "joindomain" not in html


@pytest.mark.parametrize("size", [3, 60])
def test_words_cost_no_query(client, workspace, owner, django_assert_num_queries, size):
    kinds = [("joindomain", "demo.test"), ("site", "Shop"), ("invite", "Invite for x@example.com")]
    for n in range(size):
        target_type, target_repr = kinds[n % len(kinds)]
        _event(workspace, target_type, target_repr, minute=n, after={"email": "x@example.com"})
    client.force_login(owner)
    with django_assert_num_queries(5):  # session, user, membership, capabilities, the page of events
        response = client.get(reverse("activity:index", args=[workspace.slug]))
    assert "join domain demo.test" in _target_cells(response.content.decode())
