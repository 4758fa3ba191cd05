"""The data & privacy pages (seed 002): members with request_data_export / request_data_deletion
file requests for a tracked person's data on a site they can see; each requester sees their own
requests and status; those who run the data-collection policies (manage_policies) see them all."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_save
from privacy.models import DataRequest
from privacy.services import data_request_create, data_request_set_status
from tests.factories import UserFactory, add_member, make_site, make_workspace
from workspaces.sites.services import site_grant_set

pytestmark = pytest.mark.django_db


def url(name, workspace):
    return reverse(f"privacy:{name}", args=[workspace.slug])


def as_(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def shop(workspace):
    return make_site(workspace, "Shop")


@pytest.fixture
def blog(workspace):
    return make_site(workspace, "Blog")


@pytest.fixture
def people(workspace, owner):
    found = {"owner": owner}
    for key in (catalog.ADMIN, catalog.BILLING_ADMIN, catalog.MEMBER, catalog.VIEWER):
        found[key] = add_member(workspace, key, user=UserFactory(email=f"{key}@acme.test")).user
    found["outsider"] = make_workspace(UserFactory(email="out@other.test"), "Other").memberships.get().user
    return found


@pytest.fixture
def member(workspace, people, shop):
    """A Member with a site-viewer grant on Shop only."""
    membership = workspace.memberships.get(user=people[catalog.MEMBER])
    site_grant_set(actor=None, site=shop, role=builtin_role(catalog.SITE_VIEWER, catalog.SITE), membership=membership)
    return people[catalog.MEMBER]


def post_request(client, workspace, site, kind="export", subject="visitor-42", note=""):
    data = {"kind": kind, "site": site.pk, "subject": subject, "note": note, "confirm": "yes"}
    return client.post(url("create", workspace), data)


# --- who may open what -----------------------------------------------------------------------------

EXPECTED = {"owner": 200, catalog.ADMIN: 200, catalog.MEMBER: 200, catalog.BILLING_ADMIN: 403, catalog.VIEWER: 403}


@pytest.mark.parametrize("page", ["index", "create"])
@pytest.mark.parametrize("who", [*EXPECTED, "outsider"])
def test_privacy_pages_open_for_the_request_capabilities_only(client, workspace, people, page, who):
    assert as_(client, people[who]).get(url(page, workspace)).status_code == EXPECTED.get(who, 404)


@pytest.mark.parametrize("who", [catalog.VIEWER, catalog.BILLING_ADMIN, "outsider"])
def test_a_forged_request_from_someone_without_the_capability_writes_nothing(client, workspace, people, shop, who):
    before = AuditEvent.objects.count()
    response = post_request(as_(client, people[who]), workspace, shop)
    assert response.status_code == (404 if who == "outsider" else 403)
    assert not DataRequest.objects.exists() and AuditEvent.objects.count() == before


def test_data_and_privacy_is_reachable_by_those_who_may_use_it(client, workspace, people):
    """Through the settings hub, or, for those who may not open the hub (members), from the
    navigation's Settings group itself."""
    link = f'href="{url("index", workspace)}"'
    for who, shown in (
        ("owner", True),
        (catalog.ADMIN, True),
        (catalog.MEMBER, True),
        (catalog.VIEWER, False),
        (catalog.BILLING_ADMIN, False),
    ):
        as_(client, people[who])
        overview = client.get(reverse("workspaces:detail", args=[workspace.slug])).content.decode()
        hub = client.get(reverse("settings:index", args=[workspace.slug]))
        reachable = link in overview or (hub.status_code == 200 and link in hub.content.decode())
        assert reachable is shown, who


# --- filing a request ------------------------------------------------------------------------------


def test_a_member_files_a_request_for_a_site_they_can_see(client, workspace, member, shop):
    client = as_(client, member)
    response = client.post(
        url("create", workspace),
        {
            "kind": "deletion",
            "site": shop.pk,
            "subject": "jane@shopper.test",
            "note": "Asked by e-mail",
            "confirm": "yes",
        },
        follow=True,
    )
    assert response.redirect_chain == [(url("index", workspace), 302)]
    page = response.content.decode()
    assert "Your deletion request for Shop is received." in page
    assert "jane@shopper.test" in page and "Received" in page
    request = DataRequest.objects.get()
    assert (request.workspace, request.site, request.kind, request.subject, request.requested_by) == (
        workspace,
        shop,
        "deletion",
        "jane@shopper.test",
        member,
    )
    event = AuditEvent.objects.get(action="data_request.create")
    assert event.actor == member and event.after == {"kind": "deletion", "site": "Shop", "status": "received"}
    assert "jane@shopper.test" not in str(event.before) + str(event.after) + event.target_repr


def test_the_form_offers_only_the_sites_the_member_can_see(client, workspace, member, shop, blog):
    client = as_(client, member)
    page = client.get(url("create", workspace)).content.decode()
    assert f'value="{shop.pk}"' in page and f'value="{blog.pk}"' not in page
    before = AuditEvent.objects.count()
    response = post_request(client, workspace, blog)
    assert response.status_code == 200
    assert "Choose one of the sites listed." in response.content.decode()
    assert not DataRequest.objects.exists() and AuditEvent.objects.count() == before


def test_another_workspaces_site_is_not_offered(client, workspace, owner):
    other = make_workspace(owner, "Other")
    theirs = make_site(other, "Theirs")
    response = post_request(as_(client, owner), workspace, theirs)
    assert "Choose one of the sites listed." in response.content.decode()
    assert not DataRequest.objects.exists()


def test_bad_input_gets_its_message_and_writes_nothing(client, workspace, member, shop):
    client = as_(client, member)
    for data, message in (
        ({"kind": "export", "site": shop.pk, "subject": "  "}, "Name the tracked person"),
        ({"kind": "erase", "site": shop.pk, "subject": "x"}, "Select a valid choice"),
        ({"kind": "export", "site": "", "subject": "x"}, "Choose the site."),
    ):
        response = client.post(url("create", workspace), data)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not DataRequest.objects.exists()


def test_the_same_pending_request_twice_is_refused(client, workspace, member, shop):
    client = as_(client, member)
    post_request(client, workspace, shop, subject="visitor-42")
    response = post_request(client, workspace, shop, subject="VISITOR-42")
    assert "The same export request for this person on Shop is already received" in response.content.decode()
    assert DataRequest.objects.count() == 1
    post_request(client, workspace, shop, kind="deletion", subject="visitor-42")  # another kind is another request
    assert DataRequest.objects.count() == 2


def test_a_role_with_only_the_export_capability_offers_only_exports(client, workspace, shop):
    role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="Privacy clerk",
        capabilities={"view_workspace", "request_data_export"},
        site_capabilities={"view_site"},
    )
    clerk = add_member(workspace, role).user
    client = as_(client, clerk)
    page = client.get(url("create", workspace)).content.decode()
    assert 'value="export"' in page and 'value="deletion"' not in page
    response = post_request(client, workspace, shop, kind="deletion")
    assert "Select a valid choice" in response.content.decode()
    assert not DataRequest.objects.exists()
    post_request(client, workspace, shop, kind="export")
    assert DataRequest.objects.get().kind == "export"


# --- what each person sees -------------------------------------------------------------------------


def test_each_requester_sees_their_own_requests_and_policy_managers_see_all(client, workspace, people, member, shop):
    second = add_member(workspace, catalog.MEMBER, user=UserFactory(email="second@acme.test")).user
    site_grant_set(
        actor=None,
        site=shop,
        role=builtin_role(catalog.SITE_VIEWER, catalog.SITE),
        membership=workspace.memberships.get(user=second),
    )
    mine = data_request_create(actor=member, workspace=workspace, site=shop, kind="export", subject="mine-1")
    data_request_create(actor=second, workspace=workspace, site=shop, kind="export", subject="theirs-2")
    data_request_set_status(data_request=mine, status="in_progress", staff_note="Export runs tonight.")

    page = as_(client, member).get(url("index", workspace)).content.decode()
    assert "Your requests" in page
    assert "mine-1" in page and "In progress" in page and "Export runs tonight." in page
    assert "theirs-2" not in page
    for who in ("owner", catalog.ADMIN):
        page = as_(client, people[who]).get(url("index", workspace)).content.decode()
        assert "All requests of Acme" in page
        assert "mine-1" in page and "theirs-2" in page and "second@acme.test" in page


def test_a_request_outlives_its_site(client, workspace, member, shop, owner):
    from workspaces.sites.services import site_delete

    data_request_create(actor=member, workspace=workspace, site=shop, kind="export", subject="v-1")
    site_delete(actor=None, site=shop)
    page = as_(client, member).get(url("index", workspace)).content.decode()
    assert 'Shop <span class="muted">(deleted)</span>' in page


def test_another_workspaces_requests_are_never_shown(client, workspace, owner):
    other = make_workspace(owner, "Other")
    site = make_site(other, "Theirs")
    data_request_create(actor=owner, workspace=other, site=site, kind="export", subject="other-person")
    page = as_(client, owner).get(url("index", workspace)).content.decode()
    assert "other-person" not in page and "No requests yet." in page


# --- query counts ----------------------------------------------------------------------------------

# session, user, membership with its workspace, workspace permissions, requests with site and requester
INDEX_QUERIES = 5


@pytest.mark.parametrize("size", [5, 300])
@pytest.mark.parametrize("who", ["owner", "member"])
def test_index_query_count_does_not_grow(client, workspace, owner, member, shop, django_assert_num_queries, size, who):
    for n in range(size):
        data_request_create(actor=member, workspace=workspace, site=shop, kind="export", subject=f"visitor-{n}")
        data_request_create(actor=owner, workspace=workspace, site=shop, kind="deletion", subject=f"visitor-{n}")
    viewer = owner if who == "owner" else member
    client = as_(client, viewer)
    with django_assert_num_queries(INDEX_QUERIES):
        response = client.get(url("index", workspace))
    shown = response.content.decode().count("visitor-")
    assert shown == (2 * size if who == "owner" else size)
