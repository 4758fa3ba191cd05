"""Times are shown in the person's time zone and always name it.

A person chooses a zone on the profile page (a name of the tz database, nothing else); without
one, a workspace's pages use the workspace's zone and other pages UTC. Every time on a page is a
``<time datetime="…">`` that says its zone; e-mails say UTC.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import profile_update
from permissions import catalog
from permissions.roles import builtin_role
from portal.templatetags.when import when
from tests.factories import add_member
from workspaces.invites.services import invite_create, invite_resend
from workspaces.models import Invite
from workspaces.overview.services import workspace_update

pytestmark = pytest.mark.django_db

# 23:42 UTC on 7 December is 00:42 on the 8th in Berlin (CET) and 18:42 on the 7th in New York (EST).
EXPIRY = datetime.datetime(2026, 12, 7, 23, 42, tzinfo=datetime.UTC)


@pytest.fixture
def invite(workspace, owner):
    invite_create(
        actor=owner, workspace=workspace, emails=["new@x.test"], role=builtin_role(catalog.VIEWER), send_email=False
    )
    Invite.objects.update(expires_at=EXPIRY)
    return Invite.objects.get()


def people_page(client, user, workspace) -> str:
    client.force_login(user)
    response = client.get(reverse("people:index", args=[workspace.slug]))
    assert response.status_code == 200
    return response.content.decode()


def test_without_a_zone_of_their_own_a_person_sees_the_workspaces(client, workspace, owner, invite):
    workspace_update(actor=owner, workspace=workspace, name=workspace.name, time_zone="Europe/Berlin")
    html = people_page(client, owner, workspace)
    assert '<time datetime="2026-12-08T00:42:00+01:00">8 Dec 2026, 00:42 CET</time>' in html


def test_a_persons_own_zone_wins(client, workspace, owner, invite):
    workspace_update(actor=owner, workspace=workspace, name=workspace.name, time_zone="Europe/Berlin")
    profile_update(user=owner, time_zone="America/New_York")
    html = people_page(client, owner, workspace)
    assert '<time datetime="2026-12-07T18:42:00-05:00">7 Dec 2026, 18:42 EST</time>' in html
    # Another person of the same workspace still sees the workspace's zone.
    admin = add_member(workspace, catalog.ADMIN).user
    assert "8 Dec 2026, 00:42 CET" in people_page(client, admin, workspace)


def test_outside_a_workspace_the_time_is_utc_and_says_so(
    client, workspace, owner, invite, django_capture_on_commit_callbacks
):
    # The token exists only in the e-mail: a resend makes a new one and mails it.
    with django_capture_on_commit_callbacks(execute=True):
        invite_resend(actor=owner, invite=invite)
    Invite.objects.update(expires_at=EXPIRY)
    token = re.search(r"/invites/([A-Za-z0-9_-]+)/", mail.outbox[-1].body).group(1)
    html = client.get(reverse("invites:accept", args=[token])).content.decode()
    assert '<time datetime="2026-12-07T23:42:00+00:00">7 December 2026, 23:42 UTC</time>' in html


def test_the_zone_is_reset_after_each_request(client, workspace, owner, invite):
    profile_update(user=owner, time_zone="Asia/Tokyo")
    people_page(client, owner, workspace)
    assert timezone.get_current_timezone_name() == "UTC"


def test_the_profile_page_offers_and_saves_a_zone(client, owner):
    client.force_login(owner)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in page
    response = client.post(reverse("accounts:profile"), {"full_name": "Olivia", "time_zone": "Europe/Berlin"})
    assert response.status_code == 302
    assert User.objects.get(pk=owner.pk).time_zone == "Europe/Berlin"


@pytest.mark.parametrize(
    "hostile",
    ["Mars/Olympus_Mons", "../../../etc/passwd", "/etc/localtime", "Europe/Berlin\x00", "E" * 300, "UTC; DROP"],
)
def test_a_hostile_zone_is_refused_by_the_page_and_the_service(client, owner, hostile):
    client.force_login(owner)
    response = client.post(reverse("accounts:profile"), {"full_name": "Olivia", "time_zone": hostile})
    assert response.status_code == 200
    assert "Choose a time zone from the list." in response.content.decode()
    with pytest.raises(ValidationError):
        profile_update(user=owner, time_zone=hostile)
    assert User.objects.get(pk=owner.pk).time_zone == ""


def test_a_zone_written_around_the_checks_falls_back_to_utc(client, workspace, owner, invite):
    User.objects.filter(pk=owner.pk).update(time_zone="Nowhere/Land")
    html = people_page(client, owner, workspace)
    assert "7 Dec 2026, 23:42 UTC" in html


def test_invitation_emails_say_utc_whoever_sends_them(client, workspace, owner, django_capture_on_commit_callbacks):
    profile_update(user=owner, time_zone="Asia/Tokyo")
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("people:invite", args=[workspace.slug]),
            {"emails": "new@x.test", "role": builtin_role(catalog.VIEWER).pk},
        )
    body = mail.outbox[-1].body
    expires = timezone.localtime(Invite.objects.get().expires_at, datetime.UTC)
    assert f"expires on {expires:%-d %B %Y, %H:%M} UTC." in body


def test_zones_without_a_common_abbreviation_show_their_offset():
    with timezone.override("America/Sao_Paulo"):
        assert "7 Dec 2026, 20:42 UTC-03:00" in when(EXPIRY)
    with timezone.override("Asia/Kolkata"):
        assert "8 Dec 2026, 05:12 IST" in when(EXPIRY)


def test_days_keep_the_zone_in_their_title_and_dates_stay_dates():
    with timezone.override("Europe/Berlin"):
        html = when(EXPIRY, "day")
    assert html == '<time datetime="2026-12-08T00:42:00+01:00" title="8 Dec 2026, 00:42 CET">8 Dec 2026</time>'
    assert when(datetime.date(2026, 1, 31), "day") == '<time datetime="2026-01-31">31 Jan 2026</time>'
    assert when(None) == ""


def test_the_filter_is_available_in_every_template_and_escapes_nothing_it_should_not():
    rendered = Template("{{ moment|when }}").render(Context({"moment": EXPIRY}))
    assert rendered == '<time datetime="2026-12-07T23:42:00+00:00">7 Dec 2026, 23:42 UTC</time>'
    assert Template("{{ text|when }}").render(Context({"text": "<b>"})) == "&lt;b&gt;"


def test_a_workspace_in_utc_says_utc(client, workspace, owner, invite):
    assert "7 Dec 2026, 23:42 UTC" in people_page(client, owner, workspace)
