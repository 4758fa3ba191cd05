"""The periodic jobs on Celery beat: the schedule names each job, and each job runs the function its
management command runs (tasks run at once in the test settings)."""

from __future__ import annotations

import datetime

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from background.models import FailedTask
from permissions import catalog
from permissions.models import SiteUserPermission
from permissions.roles import builtin_role
from permissions.tasks import sync_permissions_check
from portal.celery import app
from tests.dns_server import serving
from tests.factories import add_member, make_site
from workspaces.invites.services import invite_create
from workspaces.joining.dns import txt_record_value
from workspaces.joining.services import join_domain_add, join_domain_verify_dns
from workspaces.models import Invite, JoinDomain
from workspaces.sites.services import site_grant_set
from workspaces.tasks import purge_expired_invites, verify_domains

pytestmark = pytest.mark.django_db

JOBS = {
    "verify-domains": "workspaces.verify_domains",
    "purge-expired-invites": "workspaces.purge_expired_invites",
    "sync-permissions-check": "permissions.sync_permissions_check",
    "webhooks-deliver-due": "webhooks.deliver_due",
    "flush-key-counts": "permissions.flush_key_counts",
}


def test_the_schedule_names_each_job_with_a_registered_task():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {name: entry["task"] for name, entry in schedule.items()} == JOBS
    for entry in schedule.values():
        assert isinstance(entry["schedule"], crontab)
        assert entry["task"] in app.tasks  # found by autodiscovery, as a worker finds it
    assert app.conf.beat_schedule == schedule
    assert app.conf.result_expires is None  # no results kept: beat adds no clean-up job of its own
    assert "mail.send" in app.tasks


def test_the_schedule_runs_daily_jobs_at_night_the_check_every_six_hours_and_webhooks_and_key_counts_every_minute():
    schedule = settings.CELERY_BEAT_SCHEDULE
    when = {name: (entry["schedule"].hour, entry["schedule"].minute) for name, entry in schedule.items()}
    assert when == {
        "verify-domains": ({3}, {15}),
        "purge-expired-invites": ({3}, {45}),
        "sync-permissions-check": ({0, 6, 12, 18}, {0}),
        "webhooks-deliver-due": (set(range(24)), set(range(60))),  # every minute
        "flush-key-counts": (set(range(24)), set(range(60))),  # every minute
    }
    assert app.conf.timezone == "UTC"


def test_purge_expired_invites_deletes_what_the_command_deletes(owner, workspace):
    result = invite_create(
        actor=owner,
        workspace=workspace,
        emails=["old@example.com", "new@example.com"],
        role=builtin_role(catalog.MEMBER),
    )
    old = next(invite for invite in result.invited if invite.email == "old@example.com")
    Invite.objects.filter(pk=old.pk).update(expires_at=timezone.now() - datetime.timedelta(days=31))
    assert purge_expired_invites.delay().get() == 1
    assert list(Invite.objects.values_list("email", flat=True)) == ["new@example.com"]
    assert purge_expired_invites.delay().get() == 0


def test_verify_domains_suspends_a_domain_whose_record_is_gone(settings, owner, workspace):
    with serving(settings) as dns:
        domain = join_domain_add(
            actor=owner, workspace=workspace, domain="dune.test", role=builtin_role(catalog.MEMBER)
        )
        dns.records["dune.test"] = [txt_record_value(domain.verification_token)]
        join_domain_verify_dns(actor=owner, domain=domain)
        assert verify_domains.delay().get() == {"checked": 1, "suspended": 0, "restored": 0, "failed": 0}
        del dns.records["dune.test"]
        assert verify_domains.delay().get() == {"checked": 1, "suspended": 1, "restored": 0, "failed": 0}
    assert JoinDomain.objects.get(pk=domain.pk).suspended_at is not None


def test_the_permissions_check_passes_in_sync_and_fails_visibly_on_drift(owner, workspace):
    member = add_member(workspace, catalog.MEMBER)
    site = make_site(workspace, "Shop")
    site_grant_set(actor=owner, site=site, role=builtin_role(catalog.EDITOR, catalog.SITE), membership=member)
    assert sync_permissions_check.delay().get() == 1
    assert not FailedTask.objects.exists()

    SiteUserPermission.objects.filter(user=member.user).delete()  # drift
    sync_permissions_check.delay()
    [failed] = FailedTask.objects.all()
    assert (failed.task_name, failed.exception) == ("permissions.sync_permissions_check", "PermissionsDrifted")
    assert workspace.slug in failed.message
    assert SiteUserPermission.objects.filter(user=member.user).count() == 0  # a check repairs nothing
