"""The join-domain pages (list and add, one domain with its DNS record, verify, edit, remove) and
the join-requests list: capability checks (403 for members without it, 404 for outsiders and for
another workspace's ids), CSRF, messages, nothing written on bad input, and query counts that do
not grow with rows."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from permissions import catalog
from permissions.roles import builtin_role, builtin_role_id
from tests.dns_server import serving
from tests.factories import UserFactory, add_member, make_workspace
from workspaces.joining.dns import txt_record_value
from workspaces.joining.services import join_domain_add
from workspaces.models import JoinDomain, JoinRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db):
    return UserFactory(email="olivia@acme.test")


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Acme")


@pytest.fixture
def dns(settings):
    with serving(settings) as server:
        yield server


def pending_domain(workspace, name="dune.test", **kwargs) -> JoinDomain:
    kwargs.setdefault("role", builtin_role(catalog.MEMBER))
    return join_domain_add(actor=None, workspace=workspace, domain=name, **kwargs)


def urls(workspace, found=None) -> dict[str, str]:
    found_urls = {"index": reverse("join_domains:index", args=[workspace.slug])}
    if found is not None:
        for name in ("detail", "verify", "remove"):
            found_urls[name] = reverse(f"join_domains:{name}", args=[workspace.slug, found.pk])
    return found_urls


def messages_of(response) -> str:
    return " ".join(m.message for m in response.wsgi_request._messages)


def test_urls_live_in_the_workspace_settings(workspace):
    assert urls(workspace)["index"] == f"/w/{workspace.slug}/settings/join-domains/"
    assert reverse("join_requests:index", args=[workspace.slug]) == f"/w/{workspace.slug}/join-requests/"


def test_the_settings_hub_links_join_domains_only_for_manage_auto_join(client, owner, workspace):
    detail = reverse("workspaces:detail", args=[workspace.slug])
    hub = reverse("settings:index", args=[workspace.slug])
    client.force_login(owner)
    assert urls(workspace)["index"] in client.get(hub).content.decode()
    assert urls(workspace)["index"] not in client.get(detail).content.decode()  # a settings page, not top nav
    client.force_login(add_member(workspace, catalog.MEMBER).user)
    assert urls(workspace)["index"] not in client.get(detail).content.decode()


# --- the list and the add form ------------------------------------------------------------------


def test_the_list_shows_status_method_role_mode_and_subdomains(client, owner, workspace):
    join_domain_add(
        actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER), include_subdomains=True
    )
    pending_domain(workspace, mode=JoinDomain.Mode.REQUEST)
    suspended = pending_domain(workspace, "bücher.example")
    JoinDomain.objects.filter(pk=suspended.pk).update(
        verified_at=timezone.now(), suspended_at=timezone.now(), verification_method="dns"
    )
    client.force_login(owner)
    response = client.get(urls(workspace)["index"])
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "acme.test",
        "Verified e-mail address",
        "Viewer",
        "Included",
        "dune.test",
        "Not verified yet",
        "Request to join",
        "bücher.example",
        "xn--bcher-kva.example",
        "Suspended",
        "DNS TXT record",
        'name="domain"',
        "csrfmiddlewaretoken",
    ):
        assert text in page, text
    assert "portal-verification=" not in page  # the record is on the domain's own page


def test_adding_my_own_domain_verifies_it(client, owner, workspace):
    client.force_login(owner)
    response = client.post(
        urls(workspace)["index"],
        {"domain": "Acme.TEST", "role": builtin_role_id(catalog.MEMBER), "mode": "request", "include_subdomains": "on"},
    )
    assert response.status_code == 302 and response["Location"] == urls(workspace)["index"]
    found = JoinDomain.objects.get()
    assert (found.domain, found.mode, found.include_subdomains) == ("acme.test", "request", True)
    assert found.verified_at is not None
    assert "is verified by your own address" in messages_of(response)


def test_adding_another_domain_shows_its_dns_record(client, owner, workspace):
    client.force_login(owner)
    response = client.post(
        urls(workspace)["index"], {"domain": "dune.test", "role": builtin_role_id(catalog.VIEWER), "mode": "automatic"}
    )
    found = JoinDomain.objects.get()
    assert response["Location"] == urls(workspace, found)["detail"]
    page = client.get(response["Location"]).content.decode()
    assert txt_record_value(found.verification_token) in page
    assert "Check the DNS record now" in page and "Not verified yet" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"domain": "gmail.com"}, "public e-mail provider"),
        ({"domain": "not a domain"}, "not a valid domain name"),
        ({"domain": ""}, "Enter a domain name"),
        ({"domain": "acme.test", "mode": "sometimes"}, "Select a valid choice"),
        ({"domain": "acme.test", "role": "admin"}, "Select a valid choice"),
    ],
)
def test_bad_input_shows_its_message_and_writes_nothing(client, owner, workspace, data, message):
    client.force_login(owner)
    if data.get("role") == "admin":
        data["role"] = builtin_role_id(catalog.ADMIN)  # not offered: only Member, Viewer, custom roles
    form = {"role": builtin_role_id(catalog.MEMBER), "mode": "automatic", **data}
    response = client.post(urls(workspace)["index"], form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not JoinDomain.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="join_domain").exists()


def test_a_domain_of_another_workspace_is_refused_with_a_message(client, owner, workspace):
    boss = UserFactory(email="boss@acme.test")
    join_domain_add(
        actor=boss, workspace=make_workspace(boss, "Rival"), domain="acme.test", role=builtin_role("member")
    )
    client.force_login(owner)
    response = client.post(
        urls(workspace)["index"], {"domain": "acme.test", "role": builtin_role_id(catalog.MEMBER), "mode": "automatic"}
    )
    assert "already verified by another workspace" in response.content.decode()
    assert not JoinDomain.objects.filter(workspace=workspace).exists()


# --- one domain: verify, edit, remove ----------------------------------------------------------


def test_the_verify_button_checks_dns(client, owner, workspace, dns):
    found = pending_domain(workspace)
    client.force_login(owner)
    response = client.post(urls(workspace, found)["verify"])
    assert response["Location"] == urls(workspace, found)["detail"]
    assert "No TXT record" in client.get(response["Location"]).content.decode()
    found.refresh_from_db()
    assert found.verified_at is None

    dns.records["dune.test"] = [txt_record_value(found.verification_token)]
    response = client.post(urls(workspace, found)["verify"])
    assert response["Location"] == urls(workspace)["index"]
    assert "dune.test is verified" in messages_of(response)
    found.refresh_from_db()
    assert found.verification_method == "dns" and found.verified_at is not None
    page = client.get(urls(workspace, found)["detail"]).content.decode()
    assert "portal-verification=" not in page and "Verified" in page


def test_verify_is_post_only(client, owner, workspace):
    found = pending_domain(workspace)
    client.force_login(owner)
    assert client.get(urls(workspace, found)["verify"]).status_code == 405


def test_editing_saves_through_the_service(client, owner, workspace):
    found = pending_domain(workspace)
    client.force_login(owner)
    response = client.post(
        urls(workspace, found)["detail"],
        {"role": builtin_role_id(catalog.VIEWER), "mode": "request", "include_subdomains": "on"},
    )
    assert response["Location"] == urls(workspace)["index"]
    found.refresh_from_db()
    assert (found.role.key, found.mode, found.include_subdomains) == (catalog.VIEWER, "request", True)
    assert AuditEvent.objects.filter(action="join_domain.update").count() == 1
    refused = client.post(
        urls(workspace, found)["detail"], {"role": builtin_role_id(catalog.OWNER), "mode": "automatic"}
    )
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    found.refresh_from_db()
    assert found.role.key == catalog.VIEWER


def test_removing_asks_first_then_removes(client, owner, workspace):
    found = pending_domain(workspace)
    client.force_login(owner)
    confirm = client.get(urls(workspace, found)["remove"])
    assert confirm.status_code == 200 and "Remove dune.test?" in confirm.content.decode()
    assert JoinDomain.objects.exists()
    response = client.post(urls(workspace, found)["remove"], {"confirm": "yes"})
    assert response["Location"] == urls(workspace)["index"]
    assert not JoinDomain.objects.exists()
    assert AuditEvent.objects.filter(action="join_domain.remove").count() == 1


def test_csrf_is_required(owner, workspace):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(owner)
    response = csrf_client.post(
        urls(workspace)["index"], {"domain": "dune.test", "role": builtin_role_id(catalog.MEMBER), "mode": "automatic"}
    )
    assert response.status_code == 403
    assert not JoinDomain.objects.exists()


# --- who may ----------------------------------------------------------------------------------


def every_request(workspace, found):
    found_urls = urls(workspace, found)
    form = {"domain": "x.test", "role": builtin_role_id(catalog.MEMBER), "mode": "request"}
    return [
        ("get", found_urls["index"], {}),
        ("post", found_urls["index"], form),
        ("get", found_urls["detail"], {}),
        ("post", found_urls["detail"], form),
        ("post", found_urls["verify"], {}),
        ("get", found_urls["remove"], {}),
        ("post", found_urls["remove"], {"confirm": "yes"}),
    ]


@pytest.mark.parametrize("role_key", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_members_without_manage_auto_join_get_403(client, workspace, role_key):
    found = pending_domain(workspace)
    client.force_login(add_member(workspace, role_key).user)
    for method, url, data in every_request(workspace, found):
        assert getattr(client, method)(url, data).status_code == 403, url
    found.refresh_from_db()
    assert JoinDomain.objects.count() == 1 and found.mode == "automatic"


def test_outsiders_get_404(client, workspace):
    found = pending_domain(workspace)
    client.force_login(UserFactory())
    for method, url, data in every_request(workspace, found):
        assert getattr(client, method)(url, data).status_code == 404, url
    assert JoinDomain.objects.count() == 1


def test_another_workspaces_domain_is_404(client, workspace):
    theirs = pending_domain(workspace)
    other_owner = UserFactory()
    other = make_workspace(other_owner, "Other")
    client.force_login(other_owner)
    for name in ("detail", "verify", "remove"):
        url = reverse(f"join_domains:{name}", args=[other.slug, theirs.pk])
        assert client.get(url).status_code in (404, 405)
        assert client.post(url, {"role": builtin_role_id(catalog.MEMBER), "mode": "request"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.mode == "automatic"


def test_admins_may_use_the_pages(client, workspace):
    client.force_login(add_member(workspace, catalog.ADMIN).user)
    assert client.get(urls(workspace)["index"]).status_code == 200


# --- the join-requests list ---------------------------------------------------------------------


def make_requests(workspace, count: int) -> JoinDomain:
    found = pending_domain(workspace, mode=JoinDomain.Mode.REQUEST)
    users = User.objects.bulk_create(
        [User(email=f"asker{workspace.pk}-{n}@dune.test", full_name=f"Asker {n}") for n in range(count)]
    )
    JoinRequest.objects.bulk_create([JoinRequest(workspace=workspace, user=user, domain=found) for user in users])
    return found


def test_join_requests_list_pending_people_who_are_not_members(client, owner, workspace):
    make_requests(workspace, 3)
    first, second, third = JoinRequest.objects.order_by("pk")
    JoinRequest.objects.filter(pk=second.pk).update(status="declined")
    add_member(workspace, catalog.MEMBER, third.user)  # admitted by an invitation meanwhile
    client.force_login(owner)
    page = client.get(reverse("join_requests:index", args=[workspace.slug])).content.decode()
    assert first.user.email in page and second.user.email not in page and third.user.email not in page
    assert reverse("join_requests:approve", args=[workspace.slug, first.pk]) in page
    assert reverse("join_requests:decline", args=[workspace.slug, first.pk]) in page


@pytest.mark.parametrize("role_key", [catalog.MEMBER, catalog.VIEWER, catalog.BILLING_ADMIN])
def test_join_requests_list_needs_invite_members(client, workspace, role_key):
    client.force_login(add_member(workspace, role_key).user)
    assert client.get(reverse("join_requests:index", args=[workspace.slug])).status_code == 403
    client.force_login(UserFactory())
    assert client.get(reverse("join_requests:index", args=[workspace.slug])).status_code == 404


# --- query counts -------------------------------------------------------------------------------

# session, user, membership with its workspace, workspace permissions, domains with roles and adders,
# the role choices of the add form with their capabilities (3: only givable roles are offered)
DOMAINS_QUERIES = 8
# session, user, membership with its workspace, workspace permissions, requests with people and domains
REQUESTS_QUERIES = 5


@pytest.mark.parametrize("count", [2, 30])
def test_join_domains_page_queries_do_not_grow(client, owner, workspace, django_assert_num_queries, count):
    for n in range(count):
        pending_domain(workspace, f"d{n}.test", mode=JoinDomain.Mode.REQUEST if n % 2 else JoinDomain.Mode.AUTOMATIC)
    client.force_login(owner)
    with django_assert_num_queries(DOMAINS_QUERIES):
        response = client.get(urls(workspace)["index"])
    assert response.content.decode().count("<tr>") == count + 1


@pytest.mark.parametrize("count", [5, 300])
def test_join_requests_page_queries_do_not_grow(client, owner, workspace, django_assert_num_queries, count):
    make_requests(workspace, count)
    client.force_login(owner)
    with django_assert_num_queries(REQUESTS_QUERIES):
        response = client.get(reverse("join_requests:index", args=[workspace.slug]))
    assert response.content.decode().count("<tr>") == count + 1
