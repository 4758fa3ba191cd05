"""The public page of a published experience, for people without an account: public, draft and
restricted experiences, the one-time e-mailed link of a restricted one, and what the page must
never reveal (who may view) or store (the raw token)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from permissions import catalog
from tests.factories import add_member, make_experience, viewer_group_member_add
from workspaces.experiences.services import experience_publish, experience_update
from workspaces.models import ViewerLink
from workspaces.public.views import neutral_message
from workspaces.viewer_groups.link_services import LinkRequest, viewer_link_request
from workspaces.viewer_groups.services import viewer_group_create, viewer_group_member_remove

pytestmark = pytest.mark.django_db

SECRET = "The treasure is under the old oak."
VIEWER = "ada@example.com"


def page_url(experience):
    return reverse("public:experience", args=[experience.public_token])


def make(workspace, owner, title="Launch film"):
    experience = make_experience(workspace, creator=owner, title=title)
    experience_update(actor=owner, experience=experience, content=SECRET)
    return experience


@pytest.fixture
def public(workspace, owner):
    experience = make(workspace, owner)
    experience_publish(actor=owner, experience=experience, visibility="public")
    return experience


@pytest.fixture
def group(workspace, owner):
    group = viewer_group_create(actor=owner, workspace=workspace, name="Press")
    viewer_group_member_add(actor=owner, group=group, email=VIEWER)
    return group


@pytest.fixture
def restricted(workspace, owner, group):
    experience = make(workspace, owner)
    experience_publish(actor=owner, experience=experience, visibility="restricted", viewer_groups=[group])
    return experience


def link_of(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def path_of(link: str) -> str:
    return link.removeprefix("http://testserver")


def without_csrf(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def ask_for_link(client, experience, email=VIEWER):
    with TestCase.captureOnCommitCallbacks(
        execute=True
    ):  # the link's mail is queued when the request's transaction commits
        return client.post(page_url(experience), {"email": email}, follow=True)


# --- public and draft ---


def test_published_public_experience_opens_for_anyone(client, public):
    response = client.get(page_url(public))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Launch film" in page and SECRET in page and "Published by Acme" in page


def test_draft_and_unknown_experiences_are_404_for_everyone(client, workspace, owner):
    draft = make(workspace, owner, title="Draft")
    assert client.get(page_url(draft)).status_code == 404
    client.force_login(owner)
    assert client.get(page_url(draft)).status_code == 404
    assert client.get(reverse("public:experience", args=["x" * 43])).status_code == 404


def test_unpublished_experience_goes_back_to_404(client, owner, public):
    experience_publish(actor=owner, experience=public, published=False)
    assert client.get(page_url(public)).status_code == 404


# --- restricted: the address form ---


def test_restricted_experience_asks_for_an_address_and_hides_its_content(client, restricted):
    response = client.get(page_url(restricted))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Launch film" in page and "Your e-mail address" in page
    assert SECRET not in page


def test_invalid_address_gets_a_message_and_sends_nothing(client, restricted):
    response = client.post(page_url(restricted), {"email": "not an address"})
    assert response.status_code == 200
    assert "Enter a valid e-mail address." in response.content.decode()
    assert not mail.outbox and not ViewerLink.objects.exists()


def test_the_form_needs_the_csrf_token(restricted):
    client = Client(enforce_csrf_checks=True)
    assert client.post(page_url(restricted), {"email": VIEWER}).status_code == 403
    assert not mail.outbox


# --- restricted: the whole flow ---


def test_address_in_a_group_gets_a_link_that_opens_the_experience_once(client, restricted):
    response = ask_for_link(client, restricted, email=" ADA@Example.com ")
    assert neutral_message("ADA@Example.com") in response.content.decode()
    [message] = mail.outbox
    assert message.to == [VIEWER]
    assert message.subject == "Your link to “Launch film”"
    link = link_of(message)
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and link in html

    # Opening the link (GET) changes nothing: a mail scanner cannot use it up.
    response = client.get(path_of(link))
    assert response.status_code == 200
    assert "Continue" in response.content.decode()
    assert response["Referrer-Policy"] == "same-origin"
    assert ViewerLink.objects.get().used_at is None
    assert SECRET not in client.get(page_url(restricted)).content.decode()

    # The POST uses it and this session then sees the content.
    response = client.post(path_of(link))
    assert response["Location"] == page_url(restricted)
    response = client.get(page_url(restricted))
    assert SECRET in response.content.decode()
    assert "no-cache" in response["Cache-Control"]
    assert ViewerLink.objects.get().used_at is not None

    # Another browser (session) does not.
    assert SECRET not in Client().get(page_url(restricted)).content.decode()
    # Opening an experience is not a change: nothing audited.
    assert not AuditEvent.objects.filter(action__startswith="viewer_link").exists()


def test_address_not_in_a_group_gets_the_same_answer_and_no_mail(client, restricted):
    outsider = "mallory@example.com"
    response = ask_for_link(client, restricted, email=outsider)
    assert neutral_message(outsider) in response.content.decode()
    assert not mail.outbox and not ViewerLink.objects.exists()
    # The answer for an allowed address is the same words but for the address itself.
    allowed = ask_for_link(Client(), restricted)
    assert without_csrf(response).replace(outsider, VIEWER) == without_csrf(allowed)
    assert response.status_code == allowed.status_code == 200


def test_the_token_is_stored_only_as_its_hash(client, restricted):
    ask_for_link(client, restricted)
    token = link_of(mail.outbox[0]).rstrip("/").rsplit("/", 1)[-1]
    assert len(token) >= 22  # at least 128 bits in URL-safe base64
    row = ViewerLink.objects.values().get()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(row)
    assert not AuditEvent.objects.filter(after__icontains=token).exists()


def test_a_used_link_explains_and_grants_nothing(client, restricted):
    ask_for_link(client, restricted)
    link = path_of(link_of(mail.outbox[0]))
    client.post(link)
    other = Client()
    response = other.post(link)
    assert response.status_code == 410
    assert "This link was already used" in response.content.decode()
    assert "This link was already used" in other.get(link).content.decode()
    assert SECRET not in other.get(page_url(restricted)).content.decode()


def test_an_expired_link_explains_and_grants_nothing(client, restricted):
    ask_for_link(client, restricted)
    link = path_of(link_of(mail.outbox[0]))
    ViewerLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "This link has expired" in client.get(link).content.decode()
    response = client.post(link)
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert ViewerLink.objects.get().used_at is None
    assert SECRET not in client.get(page_url(restricted)).content.decode()


def test_links_expire_after_thirty_minutes_by_default(restricted):
    viewer_link_request(experience=restricted, email=VIEWER)
    link = ViewerLink.objects.get()
    assert link.expires_at - link.created_at == timedelta(minutes=30)


def test_an_unknown_token_or_another_experiences_link_is_refused(client, workspace, owner, group, restricted):
    assert client.post(reverse("public:link", args=[restricted.public_token, "made-up-token"])).status_code == 404
    second = make(workspace, owner, title="Second film")
    experience_publish(actor=owner, experience=second, visibility="restricted", viewer_groups=[group])
    ask_for_link(client, restricted)
    token = link_of(mail.outbox[0]).rstrip("/").rsplit("/", 1)[-1]
    response = client.post(reverse("public:link", args=[second.public_token, token]))
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()
    assert ViewerLink.objects.get().used_at is None


def test_removing_the_address_from_the_group_ends_access(client, owner, group, restricted):
    ask_for_link(client, restricted)
    client.post(path_of(link_of(mail.outbox[0])))
    assert SECRET in client.get(page_url(restricted)).content.decode()
    viewer_group_member_remove(actor=owner, group=group, member=group.members.get())
    assert SECRET not in client.get(page_url(restricted)).content.decode()


def test_a_link_whose_address_left_the_group_is_refused(client, owner, group, restricted):
    ask_for_link(client, restricted)
    viewer_group_member_remove(actor=owner, group=group, member=group.members.get())
    response = client.post(path_of(link_of(mail.outbox[0])))
    assert response.status_code == 410
    assert "no longer opens the experience" in response.content.decode()
    assert SECRET not in client.get(page_url(restricted)).content.decode()


def test_sends_are_limited_per_address_and_hour_without_saying_so(client, restricted, settings):
    settings.VIEWER_LINK_LIMIT_PER_HOUR = 5
    for _ in range(5):
        ask_for_link(client, restricted)
    assert len(mail.outbox) == 5
    response = ask_for_link(client, restricted)
    assert neutral_message(VIEWER) in response.content.decode()
    assert len(mail.outbox) == 5
    assert viewer_link_request(experience=restricted, email=VIEWER) == LinkRequest.RATE_LIMITED
    # Counted in the database, per address: another address of the group still gets its link.
    assert ViewerLink.objects.filter(email=VIEWER).count() == 5
    viewer_group_member_add(actor=None, group=restricted.viewer_groups.get(), email="bob@example.com")
    assert viewer_link_request(experience=restricted, email="bob@example.com") == LinkRequest.SENT
    # An hour later the address may ask again.
    ViewerLink.objects.update(created_at=timezone.now() - timedelta(hours=1, seconds=1))
    assert viewer_link_request(experience=restricted, email=VIEWER) == LinkRequest.SENT


def test_public_experiences_send_no_links(public):
    assert viewer_link_request(experience=public, email=VIEWER) == LinkRequest.NOT_ALLOWED
    assert not mail.outbox


# --- signed-in members ---


def test_members_who_can_see_the_experience_see_it_without_a_link(client, workspace, owner, restricted):
    client.force_login(owner)
    assert SECRET in client.get(page_url(restricted)).content.decode()
    viewer = add_member(workspace, catalog.VIEWER).user  # view_experience on every experience
    client.force_login(viewer)
    assert SECRET in client.get(page_url(restricted)).content.decode()
    member = add_member(workspace, catalog.MEMBER).user  # view_all_analytics: every experience too
    client.force_login(member)
    assert SECRET in client.get(page_url(restricted)).content.decode()
    cannot_see = add_member(workspace, catalog.BILLING_ADMIN).user  # a member without view_experience
    client.force_login(cannot_see)
    assert SECRET not in client.get(page_url(restricted)).content.decode()


# --- cost ---


@pytest.mark.parametrize("size", [5, 300])
def test_restricted_page_query_count_does_not_grow(client, owner, group, restricted, django_assert_num_queries, size):
    for n in range(size):
        viewer_group_member_add(actor=owner, group=group, email=f"person{n}@example.com")
    ask_for_link(client, restricted)
    client.post(path_of(link_of(mail.outbox[0])))
    # session, experience with workspace, the proven address still in a group
    with django_assert_num_queries(3):
        response = client.get(page_url(restricted))
    assert SECRET in response.content.decode()
