"""Required single sign-on: a workspace that requires it opens its pages, to members at its
connections' domains, only in a session its own identity provider signed in. Refused and attacker
sides: who may turn it on and when, another workspace's identity provider, a password session,
contractors, owners' audited way back in, outsiders. The sign-ins run against the real test
provider tests/oidc/hostile_idp.py (client ID ``honest``) on 127.0.0.1."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from sso import sessions
from sso.services import (
    NO_CONNECTION_TO_REQUIRE,
    connection_add,
    connection_set_enabled,
    sso_requirement_set,
)
from tests.factories import UserFactory, add_member, make_workspace
from tests.oidc.processes import hostile_idp
from tests.test_twofactor_workspace import verified_client
from tests.twofactor_factories import enable_two_factor
from workspaces.joining.services import join_domain_add

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def issuer():
    with hostile_idp() as found:
        yield found


def _connected(owner, name: str, domain_name: str, issuer: str):
    workspace = make_workspace(owner, name)
    domain = join_domain_add(actor=owner, workspace=workspace, domain=domain_name, role=builtin_role(catalog.VIEWER))
    connection = connection_add(
        actor=owner,
        workspace=workspace,
        name=f"{name} IdP",
        issuer=issuer,
        client_id="honest",
        client_secret="client-secret-value",
        domains=[domain],
        default_role=builtin_role(catalog.MEMBER),
    )
    return workspace, connection


@pytest.fixture
def acme(issuer):
    owner = UserFactory(email="olivia@acme.test")
    workspace, connection = _connected(owner, "Acme", "acme.test", issuer)
    return owner, workspace, connection


@pytest.fixture
def beta(issuer):
    owner = UserFactory(email="bert@beta.test")
    return _connected(owner, "Beta", "beta.test", issuer)


@pytest.fixture
def nina(acme):
    return add_member(acme[1], catalog.MEMBER, UserFactory(email="nina@acme.test")).user


def home(workspace) -> str:
    return reverse("workspaces:detail", args=[workspace.slug])


def password_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def come_back(client, continue_url: str):
    """The identity provider answers at once (no login page); follow it back to the callback."""
    answer = requests.get(continue_url, allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    return client.get(back.path, {k: v[0] for k, v in parse_qs(back.query).items()})


def require_sso(acme):
    owner, workspace, _ = acme
    sso_requirement_set(actor=owner, workspace=workspace, required=True)


# --- turning it on and off ------------------------------------------------------------------------


def test_turning_on_is_audited_and_repeat_writes_nothing(acme):
    owner, workspace, _ = acme
    sso_requirement_set(actor=owner, workspace=workspace, required=True)
    sso_requirement_set(actor=owner, workspace=workspace, required=True)
    sso_requirement_set(actor=owner, workspace=workspace, required=False)
    events = AuditEvent.objects.filter(action="sso.required").order_by("pk")
    assert [e.after for e in events] == [{"sso_required": True}, {"sso_required": False}]


def test_refused_without_an_enabled_connection_with_a_domain(acme):
    owner, workspace, connection = acme
    connection_set_enabled(actor=owner, connection=connection, enabled=False)
    with pytest.raises(RuleViolation, match="enabled connection"):
        sso_requirement_set(actor=owner, workspace=workspace, required=True)
    bare = make_workspace(owner, "Bare")
    with pytest.raises(RuleViolation):
        sso_requirement_set(actor=owner, workspace=bare, required=True)
    assert not AuditEvent.objects.filter(action="sso.required").exists()


@pytest.mark.parametrize("role", [catalog.ADMIN, catalog.MEMBER, catalog.VIEWER])
def test_only_who_manages_sso_may_change_it(acme, role):
    _, workspace, _ = acme
    someone = add_member(workspace, role, UserFactory(email=f"{role}@elsewhere.test")).user
    with pytest.raises(PermissionDenied):
        sso_requirement_set(actor=someone, workspace=workspace, required=True)


def test_settings_page_toggle(acme):
    owner, workspace, _ = acme
    client = password_client(owner)
    url = reverse("sso:required", args=[workspace.slug])
    page = client.get(reverse("sso:index", args=[workspace.slug]))
    assert page.status_code == 200 and "Require single sign-on" in page.content.decode()
    assert client.post(url, {"required": "on"}).status_code == 302
    assert AuditEvent.objects.filter(action="sso.required", actor=owner).count() == 1


def test_settings_page_refusal_is_a_message_not_an_error(acme):
    owner, workspace, connection = acme
    connection_set_enabled(actor=owner, connection=connection, enabled=False)
    client = password_client(owner)
    response = client.post(reverse("sso:required", args=[workspace.slug]), {"required": "on"}, follow=True)
    assert response.status_code == 200 and NO_CONNECTION_TO_REQUIRE in response.content.decode()


@pytest.mark.parametrize("body", [{}, {"required": "\x00"}, {"required": ["on", "off"]}, {"required": "x" * 5000}])
def test_hostile_toggle_input_is_never_an_error(acme, body):
    owner, workspace, _ = acme
    response = password_client(owner).post(reverse("sso:required", args=[workspace.slug]), body)
    assert response.status_code == 302


def test_other_workspaces_toggle_is_a_404(acme, beta):
    owner, workspace, _ = acme
    other, _ = beta
    client = password_client(owner)
    assert client.post(reverse("sso:required", args=[other.slug]), {"required": "on"}).status_code == 404
    assert not AuditEvent.objects.filter(action="sso.required").exists()


def test_member_without_manage_sso_gets_403(acme):
    _, workspace, _ = acme
    admin = add_member(workspace, catalog.ADMIN, UserFactory(email="ada@elsewhere.test")).user
    assert (
        password_client(admin).post(reverse("sso:required", args=[workspace.slug]), {"required": "on"}).status_code
        == 403
    )


# --- what members see -----------------------------------------------------------------------------


def test_password_session_is_sent_to_the_idp_and_comes_back_signed_in(acme, nina):
    _, workspace, connection = acme
    require_sso(acme)
    client = password_client(nina)
    page = client.get(home(workspace))
    assert page.status_code == 200 and page.templates[0].name == "sso/required.html"
    continue_url = page.context["continue_url"]
    assert continue_url.startswith(connection.issuer + "/")
    assert 'http-equiv="refresh"' in page.content.decode()
    back = come_back(client, continue_url)
    assert back.status_code == 302 and back["Location"] == home(workspace)
    assert client.session[sessions.WORKSPACE] == workspace.pk
    assert client.get(home(workspace)).status_code == 200
    assert client.get(home(workspace)).templates[0].name != "sso/required.html"


def test_not_required_nothing_changes(acme, nina):
    _, workspace, _ = acme
    page = password_client(nina).get(home(workspace))
    assert page.status_code == 200 and page.templates[0].name != "sso/required.html"


def test_a_session_signed_in_by_another_workspaces_idp_does_not_count(acme, beta, nina):
    _, workspace, _ = acme
    other, _ = beta
    require_sso(acme)
    client = password_client(nina)
    session = client.session
    session[sessions.WORKSPACE] = other.pk
    session.save()
    assert client.get(home(workspace)).templates[0].name == "sso/required.html"


def test_a_password_sign_in_forgets_an_earlier_single_sign_on(acme, issuer):
    _, workspace, _ = acme
    ann = add_member(workspace, catalog.MEMBER, UserFactory(email="ann@acme.test")).user
    require_sso(acme)
    client = Client()
    page = client.post(reverse("accounts:login"), {"username": ann.email})
    come_back(client, page.context["continue_url"])
    assert client.session[sessions.WORKSPACE] == workspace.pk
    client.force_login(ann)  # the same person, now with a password
    assert sessions.WORKSPACE not in client.session
    assert client.get(home(workspace)).templates[0].name == "sso/required.html"


def test_contractors_at_other_domains_are_not_concerned(acme):
    _, workspace, _ = acme
    carl = add_member(workspace, catalog.MEMBER, UserFactory(email="carl@contractor.test")).user
    require_sso(acme)
    page = password_client(carl).get(home(workspace))
    assert page.status_code == 200 and page.templates[0].name != "sso/required.html"


def test_members_of_the_other_workspace_are_not_concerned(acme, beta):
    require_sso(acme)
    other, _ = beta
    bert = other.memberships.get(role__key=catalog.OWNER).user
    page = password_client(bert).get(home(other))
    assert page.status_code == 200 and page.templates[0].name != "sso/required.html"


def test_outsiders_still_get_404(acme, beta):
    _, workspace, _ = acme
    require_sso(acme)
    other, _ = beta
    bert = other.memberships.get(role__key=catalog.OWNER).user
    assert password_client(bert).get(home(workspace)).status_code == 404


def test_a_disabled_connection_requires_nothing(acme, nina):
    owner, workspace, connection = acme
    require_sso(acme)
    connection_set_enabled(actor=owner, connection=connection, enabled=False)
    assert password_client(nina).get(home(workspace)).templates[0].name != "sso/required.html"


def test_a_post_is_sent_on_and_comes_back_to_the_workspace(acme, nina):
    _, workspace, _ = acme
    require_sso(acme)
    page = password_client(nina).post(reverse("sso:required", args=[workspace.slug]), {"required": "off"})
    assert page.status_code == 200 and page.context["next_url"] == home(workspace)


def test_an_unreachable_idp_is_a_page_not_an_error(acme, nina):
    owner, workspace, connection = acme
    require_sso(acme)
    connection.issuer = "http://127.0.0.1:9/unreachable"
    connection.save(update_fields=["issuer"])
    page = password_client(nina).get(home(workspace))
    assert page.status_code == 503 and "cannot be reached" in page.content.decode()
    assert AuditEvent.objects.filter(action="sso.refused", after__reason="discovery").exists()


def test_the_api_is_not_concerned(acme, nina):
    require_sso(acme)
    response = password_client(nina).get("/api/v1/openapi.json")
    assert response.status_code == 200


# --- owners' way back in ----------------------------------------------------------------------------


def test_owner_with_password_and_two_factor_opens_it_audited_once(acme):
    owner, workspace, connection = acme
    require_sso(acme)
    enable_two_factor(owner)
    client = verified_client(owner)
    assert client.get(home(workspace)).templates[0].name != "sso/required.html"
    assert client.get(home(workspace)).status_code == 200
    bypass = AuditEvent.objects.get(action="sso.bypass")
    assert bypass.actor == owner and bypass.workspace == workspace and bypass.target_id == str(connection.pk)


def test_owner_without_two_factor_is_offered_it_and_not_sent_on(acme):
    owner, workspace, _ = acme
    require_sso(acme)
    page = password_client(owner).get(home(workspace))
    body = page.content.decode()
    assert page.templates[0].name == "sso/required.html" and 'http-equiv="refresh"' not in body
    assert reverse("two_factor:setup") in body
    assert not AuditEvent.objects.filter(action="sso.bypass").exists()


def test_an_admin_with_two_factor_has_no_way_round(acme):
    _, workspace, _ = acme
    ada = add_member(workspace, catalog.ADMIN, UserFactory(email="ada@acme.test")).user
    require_sso(acme)
    enable_two_factor(ada)
    assert verified_client(ada).get(home(workspace)).templates[0].name == "sso/required.html"
    assert not AuditEvent.objects.filter(action="sso.bypass").exists()
