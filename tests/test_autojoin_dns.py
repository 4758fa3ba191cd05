"""DNS verification of join domains against a real resolver asking our own small DNS server
(tests/dns_server.py), and ``manage.py verify_domains``, which suspends a domain whose record is
gone (it stops matching) and restores it when the record is back."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from tests.dns_server import serving
from tests.factories import UserFactory, add_member, make_workspace
from workspaces.joining.dns import txt_record_value
from workspaces.joining.selectors import domain_for_email
from workspaces.joining.services import join_domain_add, join_domain_verify_dns
from workspaces.models import JoinDomain

pytestmark = pytest.mark.django_db


@pytest.fixture
def dns(settings):
    with serving(settings) as server:
        yield server


@pytest.fixture
def owner(db):
    return UserFactory(email="olivia@acme.test")  # an address elsewhere: DNS is the only proof


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Dune")


@pytest.fixture
def pending(owner, workspace):
    return join_domain_add(actor=owner, workspace=workspace, domain="dune.test", role=builtin_role(catalog.MEMBER))


def publish(server, join_domain, *others):
    server.records[join_domain.domain] = ["v=spf1 -all", *others, txt_record_value(join_domain.verification_token)]


def test_the_record_verifies_the_domain(dns, owner, pending):
    assert pending.verified_at is None
    assert domain_for_email("paul@dune.test") is None
    publish(dns, pending)
    verified = join_domain_verify_dns(actor=owner, domain=pending)
    assert verified.verified_at is not None and verified.verification_method == JoinDomain.Method.DNS
    assert "dune.test" in dns.queries
    assert domain_for_email("paul@dune.test") == verified
    (event,) = AuditEvent.objects.filter(action="join_domain.verify")
    assert (event.actor, event.before["status"], event.after["status"]) == (owner, "pending", "verified")
    assert pending.verification_token not in str(event.after) + str(event.before)
    join_domain_verify_dns(actor=owner, domain=verified)  # already verified: nothing to record
    assert AuditEvent.objects.filter(action="join_domain.verify").count() == 1


def assert_not_verified(owner, join_domain, message: str):
    events = AuditEvent.objects.count()
    with pytest.raises(RuleViolation) as caught:
        join_domain_verify_dns(actor=owner, domain=join_domain)
    assert message in " ".join(caught.value.messages)
    join_domain.refresh_from_db()
    assert join_domain.verified_at is None and AuditEvent.objects.count() == events
    assert domain_for_email("paul@dune.test") is None


def test_a_wrong_token_does_not_verify(dns, owner, pending):
    dns.records["dune.test"] = ["portal-verification=0123456789abcdef0123456789abcdef"]
    assert_not_verified(owner, pending, f"No TXT record “{txt_record_value(pending.verification_token)}”")


def test_no_record_or_no_such_name_does_not_verify(dns, owner, pending):
    assert_not_verified(owner, pending, "was found at dune.test")  # NXDOMAIN
    dns.records["dune.test"] = []
    assert_not_verified(owner, pending, "was found at dune.test")  # the name exists, without TXT


def test_the_record_must_be_at_the_domain_itself(dns, owner, pending):
    dns.records["www.dune.test"] = [txt_record_value(pending.verification_token)]
    dns.records["_portal-verification.dune.test"] = [txt_record_value(pending.verification_token)]
    assert_not_verified(owner, pending, "was found")


def test_a_failing_dns_changes_nothing(dns, owner, pending):
    publish(dns, pending)
    dns.failing = True
    assert_not_verified(owner, pending, "did not answer")


def test_verifying_needs_manage_auto_join(dns, workspace, pending):
    publish(dns, pending)
    member = add_member(workspace, catalog.MEMBER).user
    with pytest.raises(PermissionDenied):
        join_domain_verify_dns(actor=member, domain=pending)
    pending.refresh_from_db()
    assert pending.verified_at is None and dns.queries == []


def test_another_workspace_cannot_verify_a_verified_domain(dns, owner, pending):
    publish(dns, pending)
    join_domain_verify_dns(actor=owner, domain=pending)
    rival = UserFactory(email="rival@elsewhere.test")
    theirs = join_domain_add(
        actor=rival, workspace=make_workspace(rival, "Rival"), domain="eu.dune.test", role=builtin_role(catalog.MEMBER)
    )
    JoinDomain.objects.filter(pk=theirs.pk).update(domain="dune.test")  # as if added before ours was verified
    theirs.refresh_from_db()
    dns.records["dune.test"].append(txt_record_value(theirs.verification_token))
    with pytest.raises(RuleViolation, match="already verified by another workspace"):
        join_domain_verify_dns(actor=rival, domain=theirs)
    theirs.refresh_from_db()
    assert theirs.verified_at is None


# --- manage.py verify_domains -----------------------------------------------------------------


@pytest.fixture
def verified(dns, owner, pending):
    publish(dns, pending)
    return join_domain_verify_dns(actor=owner, domain=pending)


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("verify_domains", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_removed_record_suspends_the_domain_and_it_stops_matching(dns, verified):
    out, _ = run()
    assert "1 still verified, 0 suspended" in out
    assert domain_for_email("paul@dune.test") == verified

    del dns.records["dune.test"]
    out, _ = run()
    assert "Suspended dune.test (dune): its DNS record is gone." in out
    assert "Checked 1 DNS-verified domain(s): 0 still verified, 1 suspended" in out
    verified.refresh_from_db()
    assert verified.suspended_at is not None and verified.verified_at is not None
    assert domain_for_email("paul@dune.test") is None
    (event,) = AuditEvent.objects.filter(action="join_domain.suspend")
    assert event.actor is None and event.after["status"] == "suspended"

    run()  # still gone: no second event
    assert AuditEvent.objects.filter(action="join_domain.suspend").count() == 1

    publish(dns, verified)
    out, _ = run()
    assert "Restored dune.test (dune)" in out
    verified.refresh_from_db()
    assert verified.suspended_at is None
    assert domain_for_email("paul@dune.test") == verified
    assert AuditEvent.objects.filter(action="join_domain.restore").count() == 1


def test_a_suspended_domain_keeps_its_place(dns, verified):
    del dns.records["dune.test"]
    run()
    rival = UserFactory(email="boss@dune.test")
    with pytest.raises(RuleViolation, match="already verified by another workspace"):
        join_domain_add(
            actor=rival, workspace=make_workspace(rival, "Rival"), domain="dune.test", role=builtin_role(catalog.MEMBER)
        )


def test_the_verify_button_restores_a_suspended_domain(dns, owner, verified):
    del dns.records["dune.test"]
    run()
    publish(dns, verified)
    verified.refresh_from_db()
    join_domain_verify_dns(actor=owner, domain=verified)
    verified.refresh_from_db()
    assert verified.suspended_at is None


def test_a_dns_outage_suspends_nothing(dns, verified):
    dns.failing = True
    out, err = run()
    assert "1 could not be checked" in out and "Could not check dune.test (dune)" in err
    verified.refresh_from_db()
    assert verified.suspended_at is None
    assert not AuditEvent.objects.filter(action="join_domain.suspend").exists()


def test_domains_verified_by_email_are_not_rechecked(dns):
    boss = UserFactory(email="boss@acme.test")
    join_domain_add(
        actor=boss, workspace=make_workspace(boss, "Acme"), domain="acme.test", role=builtin_role(catalog.MEMBER)
    )
    out, _ = run()
    assert "Checked 0 DNS-verified domain(s)" in out and dns.queries == []


def test_workspace_option_limits_the_check(dns, verified):
    make_workspace(name="Quiet")
    del dns.records["dune.test"]
    out, _ = run("--workspace", "quiet")
    assert "Checked 0" in out
    verified.refresh_from_db()
    assert verified.suspended_at is None
    out, _ = run("--workspace", "dune")
    assert "1 suspended" in out


def test_an_unknown_workspace_is_an_error(dns):
    with pytest.raises(CommandError, match="No workspace with the slug “nope”"):
        run("--workspace", "nope")
