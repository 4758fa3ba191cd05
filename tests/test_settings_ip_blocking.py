"""IP blocking: addresses and CIDR ranges, IPv4 and IPv6, validated line by line; a paste with any
bad line stores nothing and names each bad line; one audit event per change; the page from the
allowed and the refused side, with a query count that does not grow with the rules."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from tests.factories import UserFactory, add_member, make_workspace
from workspace_settings.models import IPBlockRule
from workspace_settings.networks import canonical
from workspace_settings.services import ip_rule_remove, ip_rules_add


def networks_of(workspace) -> set[str]:
    return set(IPBlockRule.objects.filter(workspace=workspace).values_list("network", flat=True))


def events(action: str):
    return AuditEvent.objects.filter(action=action)


# --- reading one address or range ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("203.0.113.7", "203.0.113.7/32"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.0.0.0/08", "10.0.0.0/8"),
        ("  198.51.100.0/24  ", "198.51.100.0/24"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("2001:db8::1", "2001:db8::1/128"),
        ("2001:DB8::/32", "2001:db8::/32"),
        ("2001:0db8:0000:0000:0000:0000:0000:0000/32", "2001:db8::/32"),
        ("::ffff:192.0.2.1", "::ffff:c000:201/128"),
    ],
)
def test_valid_input_becomes_canonical_cidr(text, expected):
    assert canonical(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("office", "“office” is not an IP address or range."),
        ("300.1.1.1", "“300.1.1.1” is not an IP address or range."),
        ("010.0.0.1", "“010.0.0.1” is not an IP address or range."),  # octal-looking: ambiguous
        ("10.0.0.0/33", "“10.0.0.0/33” is not an IP address or range."),
        ("10.0.0.0/-1", "“10.0.0.0/-1” is not an IP address or range."),
        ("fe80::1%eth0", "“fe80::1%eth0” is not an IP address or range."),
        ("10.0.0.1/8", "“10.0.0.1/8” is a range with host bits set; did you mean 10.0.0.0/8?"),
        ("2001:db8::1/32", "“2001:db8::1/32” is a range with host bits set; did you mean 2001:db8::/32?"),
    ],
)
def test_bad_input_is_refused_with_its_reason(text, message):
    with pytest.raises(ValueError) as exc:
        canonical(text)
    assert str(exc.value) == message


# --- the services --------------------------------------------------------------------------------


def test_add_stores_each_line_canonically_with_one_audit_event(workspace, owner):
    rules = ip_rules_add(
        actor=owner, workspace=workspace, text="203.0.113.7\n\n10.0.0.0/8\r\n2001:db8::/32\n", note=" Office "
    )
    assert [rule.network for rule in rules] == ["203.0.113.7/32", "10.0.0.0/8", "2001:db8::/32"]
    stored = IPBlockRule.objects.filter(workspace=workspace)
    assert {(r.network, r.note, r.created_by_id) for r in stored} == {
        ("203.0.113.7/32", "Office", owner.pk),
        ("10.0.0.0/8", "Office", owner.pk),
        ("2001:db8::/32", "Office", owner.pk),
    }
    (event,) = events("ip_block.add")
    assert event.actor == owner and event.workspace_id == workspace.pk
    assert event.after == {"networks": ["203.0.113.7/32", "10.0.0.0/8", "2001:db8::/32"], "note": "Office"}


@pytest.mark.parametrize(
    "stored, again",
    [
        ("10.0.0.0/8", "10.0.0.0/08"),
        ("203.0.113.7", "203.0.113.7/32"),
        ("2001:db8::/32", "2001:0db8:0000:0000:0000:0000:0000:0000/32"),
        ("2001:db8::1", "2001:DB8:0:0:0:0:0:1/128"),
    ],
)
def test_a_network_already_blocked_is_refused_however_it_is_written(workspace, owner, stored, again):
    ip_rules_add(actor=owner, workspace=workspace, text=stored)
    with pytest.raises(RuleViolation) as exc:
        ip_rules_add(actor=owner, workspace=workspace, text=f"192.0.2.0/24\n{again}")
    assert exc.value.messages == [f"Line 2: {canonical(stored)} is already blocked."]
    assert networks_of(workspace) == {canonical(stored)}
    assert events("ip_block.add").count() == 1


def test_a_network_listed_twice_in_one_paste_is_refused(workspace, owner):
    with pytest.raises(RuleViolation) as exc:
        ip_rules_add(actor=owner, workspace=workspace, text="10.0.0.0/8\n192.0.2.1\n10.0.0.0/08")
    assert exc.value.messages == ["Line 3: 10.0.0.0/8 is already on line 1."]
    assert networks_of(workspace) == set()


def test_any_bad_line_stores_nothing_and_every_bad_line_is_named(workspace, owner):
    text = "10.0.0.0/8\nnot-an-ip\n192.0.2.0/24\n192.0.2.1/24\n2001:db8::/32"
    with pytest.raises(RuleViolation) as exc:
        ip_rules_add(actor=owner, workspace=workspace, text=text)
    assert exc.value.messages == [
        "Line 2: “not-an-ip” is not an IP address or range.",
        "Line 4: “192.0.2.1/24” is a range with host bits set; did you mean 192.0.2.0/24?",
    ]
    assert networks_of(workspace) == set()
    assert not events("ip_block.add").exists()


def test_empty_input_is_refused(workspace, owner):
    with pytest.raises(RuleViolation) as exc:
        ip_rules_add(actor=owner, workspace=workspace, text=" \n \n")
    assert exc.value.messages == ["Enter at least one IP address or range."]
    assert not events("ip_block.add").exists()


def test_the_same_network_may_be_blocked_in_two_workspaces(workspace, owner):
    elsewhere = make_workspace(owner, "Elsewhere")
    ip_rules_add(actor=owner, workspace=workspace, text="10.0.0.0/8")
    ip_rules_add(actor=owner, workspace=elsewhere, text="10.0.0.0/8")
    assert networks_of(workspace) == networks_of(elsewhere) == {"10.0.0.0/8"}


def test_remove_deletes_the_rule_with_one_audit_event(workspace, owner):
    rule, _other = ip_rules_add(actor=owner, workspace=workspace, text="10.0.0.0/8\n192.0.2.0/24", note="VPN")
    rule_id = rule.pk
    ip_rule_remove(actor=owner, rule=rule)
    assert networks_of(workspace) == {"192.0.2.0/24"}
    (event,) = events("ip_block.remove")
    assert event.actor == owner and event.target_id == str(rule_id)
    assert event.before == {"network": "10.0.0.0/8", "note": "VPN"}


@pytest.mark.parametrize("role", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_services_refuse_roles_without_the_capability(workspace, owner, role):
    (rule,) = ip_rules_add(actor=owner, workspace=workspace, text="10.0.0.0/8")
    person = add_member(workspace, role).user
    with pytest.raises(PermissionDenied):
        ip_rules_add(actor=person, workspace=workspace, text="192.0.2.0/24")
    with pytest.raises(PermissionDenied):
        ip_rule_remove(actor=person, rule=rule)
    assert networks_of(workspace) == {"10.0.0.0/8"}
    assert events("ip_block.add").count() == 1 and not events("ip_block.remove").exists()


def test_admin_may_add_and_remove(workspace):
    admin = add_member(workspace, catalog.ADMIN).user
    (rule,) = ip_rules_add(actor=admin, workspace=workspace, text="10.0.0.0/8")
    ip_rule_remove(actor=admin, rule=rule)
    assert networks_of(workspace) == set()


# --- the page ------------------------------------------------------------------------------------


def page_url(workspace) -> str:
    return reverse("settings:ip_blocking", args=[workspace.slug])


def remove_url(workspace, rule) -> str:
    return reverse("settings:ip_rule_remove", args=[workspace.slug, rule.pk])


def test_page_lists_rules_ipv4_first_in_address_order(client, workspace, owner):
    ip_rules_add(actor=owner, workspace=workspace, text="2001:db8::/32\n192.0.2.0/24\n10.0.0.0/8", note="Office")
    client.force_login(owner)
    response = client.get(page_url(workspace))
    assert response.status_code == 200
    page = response.content.decode()
    assert re.findall(r"<td><code>([^<]+)</code></td>", page) == ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"]
    assert "Office" in page and owner.display_name in page and "csrfmiddlewaretoken" in page


def test_posting_the_form_blocks_the_addresses(client, workspace, owner):
    client.force_login(owner)
    response = client.post(page_url(workspace), {"addresses": "203.0.113.7\n2001:db8::/48", "note": ""}, follow=True)
    assert response.redirect_chain[-1][0] == page_url(workspace)
    assert "Visits from 203.0.113.7/32, 2001:db8::/48 are no longer tracked." in response.content.decode()
    assert networks_of(workspace) == {"203.0.113.7/32", "2001:db8::/48"}
    assert events("ip_block.add").count() == 1


def test_posting_bad_lines_shows_each_and_stores_nothing(client, workspace, owner):
    client.force_login(owner)
    response = client.post(page_url(workspace), {"addresses": "10.0.0.0/8\nnope\n10.1.2.3/16"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Line 2: “nope” is not an IP address or range." in page
    assert "Line 3: “10.1.2.3/16” is a range with host bits set; did you mean 10.1.0.0/16?" in page
    assert "10.0.0.0/8\nnope" in page  # the input is kept for correcting
    assert networks_of(workspace) == set()
    assert not events("ip_block.add").exists()


def test_remove_from_the_page(client, workspace, owner):
    (rule,) = ip_rules_add(actor=owner, workspace=workspace, text="10.0.0.0/8")
    client.force_login(owner)
    assert "Stop blocking 10.0.0.0/8?" in client.get(remove_url(workspace, rule)).content.decode()  # asks first
    assert networks_of(workspace) == {"10.0.0.0/8"}
    response = client.post(remove_url(workspace, rule), {"confirm": "yes"}, follow=True)
    assert "Visits from 10.0.0.0/8 are tracked again." in response.content.decode()
    assert networks_of(workspace) == set()
    assert events("ip_block.remove").count() == 1


def test_admin_may_use_the_page(client, workspace):
    client.force_login(add_member(workspace, catalog.ADMIN).user)
    assert client.get(page_url(workspace)).status_code == 200
    client.post(page_url(workspace), {"addresses": "10.0.0.0/8"})
    assert networks_of(workspace) == {"10.0.0.0/8"}


@pytest.mark.parametrize("role", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_roles_without_the_capability_get_403_and_change_nothing(client, workspace, owner, role):
    (rule,) = ip_rules_add(actor=owner, workspace=workspace, text="10.0.0.0/8")
    client.force_login(add_member(workspace, role).user)
    assert client.get(page_url(workspace)).status_code == 403
    assert client.post(page_url(workspace), {"addresses": "192.0.2.0/24"}).status_code == 403
    assert client.post(remove_url(workspace, rule), {"confirm": "yes"}).status_code == 403
    assert networks_of(workspace) == {"10.0.0.0/8"}


def test_non_member_gets_404(client, workspace, owner):
    (rule,) = ip_rules_add(actor=owner, workspace=workspace, text="10.0.0.0/8")
    client.force_login(make_workspace(UserFactory(), "Elsewhere").memberships.get().user)
    assert client.get(page_url(workspace)).status_code == 404
    assert client.post(page_url(workspace), {"addresses": "192.0.2.0/24"}).status_code == 404
    assert client.post(remove_url(workspace, rule), {"confirm": "yes"}).status_code == 404
    assert networks_of(workspace) == {"10.0.0.0/8"}


def test_another_workspaces_rule_gets_404(client, workspace, owner):
    elsewhere = make_workspace(owner, "Elsewhere")
    (theirs,) = ip_rules_add(actor=owner, workspace=elsewhere, text="10.0.0.0/8")
    client.force_login(owner)  # owner of both; the URL names the wrong workspace
    assert client.post(remove_url(workspace, theirs)).status_code == 404
    assert networks_of(elsewhere) == {"10.0.0.0/8"}


# session, user, membership with its workspace, workspace permissions, rules with their creators
PAGE_QUERIES = 5


@pytest.mark.parametrize("size", [5, 300])
def test_page_query_count_does_not_grow_with_rules(client, workspace, owner, django_assert_num_queries, size):
    admin = add_member(workspace, catalog.ADMIN).user
    IPBlockRule.objects.bulk_create(
        IPBlockRule(workspace=workspace, network=f"10.{n // 256}.{n % 256}.0/24", created_by=(owner, admin)[n % 2])
        for n in range(size)
    )
    client.force_login(owner)
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(page_url(workspace))
    assert response.content.decode().count('aria-label="Stop blocking') == size


def test_removing_a_rule_already_gone_records_nothing(workspace, owner):
    (rule,) = ip_rules_add(actor=owner, workspace=workspace, text="10.0.0.0/8")
    stale = IPBlockRule.objects.get(pk=rule.pk)
    ip_rule_remove(actor=owner, rule=rule)
    ip_rule_remove(actor=owner, rule=stale)
    assert events("ip_block.remove").count() == 1
