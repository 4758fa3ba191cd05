"""Single sign-on connections on the workspace's SSO settings page: add, edit, disable, remove,
audited, never showing the client secret; bound only to the workspace's verified join domains; a
default role that is never Owner and that the person setting it may give (rule 3)."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from audit.models import AuditEvent
from kernel.errors import RuleViolation
from permissions import catalog
from permissions.roles import builtin_role
from permissions.services import role_save
from sso.models import Connection
from sso.services import connection_add, connection_remove, connection_set_enabled, connection_update
from tests.factories import UserFactory, add_member, make_workspace
from workspaces.joining.services import join_domain_add
from workspaces.models import Membership
from workspaces.people.services import member_change_role

pytestmark = pytest.mark.django_db
SECRET = "s3cret-value-never-shown-9f8e7d"


@pytest.fixture
def owner(db):
    return UserFactory(email="olivia@acme.test")


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Acme")


@pytest.fixture
def domain(owner, workspace):
    return join_domain_add(actor=owner, workspace=workspace, domain="acme.test", role=builtin_role(catalog.VIEWER))


def add(owner, workspace, domain, **kwargs) -> Connection:
    fields = {
        "name": "Acme IdP",
        "issuer": "https://idp.acme.test",
        "client_id": "portal",
        "client_secret": SECRET,
        "domains": [domain],
        "default_role": builtin_role(catalog.MEMBER),
        **kwargs,
    }
    return connection_add(actor=owner, workspace=workspace, **fields)


def test_add_audits_without_the_secret(owner, workspace, domain):
    connection = add(owner, workspace, domain)
    assert connection.domains.get() == domain and connection.enabled
    event = AuditEvent.objects.get(action="sso_connection.add")
    assert event.after["domains"] == ["acme.test"] and event.after["default_role"] == "Member"
    assert SECRET not in str(event.after) and SECRET not in repr(connection)


def test_owner_role_is_never_given(owner, workspace, domain):
    with pytest.raises(RuleViolation, match="never makes anyone an owner"):
        add(owner, workspace, domain, default_role=builtin_role(catalog.OWNER))
    assert not Connection.objects.exists()


def test_rule_3_default_role_must_be_givable(workspace, domain):
    """A custom role with manage_sso but not Admin's capabilities cannot make a connection give Admin."""
    role = role_save(
        actor=None,
        workspace=workspace,
        scope=catalog.WORKSPACE,
        name="SSO manager",
        capabilities={"manage_sso", "view_workspace_settings"},
    )
    manager = add_member(workspace, user=UserFactory(email="sam@acme.test")).user
    member_change_role(actor=None, membership=Membership.objects.get(user=manager), role=role)
    with pytest.raises(RuleViolation, match="cannot give capabilities you do not hold"):
        add(manager, workspace, domain, default_role=builtin_role(catalog.ADMIN))
    assert not Connection.objects.exists()


def test_only_verified_domains_of_this_workspace(owner, workspace, domain):
    pending = join_domain_add(actor=owner, workspace=workspace, domain="other.test", role=builtin_role(catalog.VIEWER))
    assert pending.verified_at is None
    with pytest.raises(RuleViolation, match="verified join domains"):
        add(owner, workspace, domain, domains=[pending])
    other_owner = UserFactory(email="bob@beta.test")
    beta = make_workspace(other_owner, "Beta")
    beta_domain = join_domain_add(actor=other_owner, workspace=beta, domain="beta.test", role=builtin_role("viewer"))
    with pytest.raises(RuleViolation):
        add(owner, workspace, domain, domains=[beta_domain])
    with pytest.raises(RuleViolation):
        add(owner, workspace, domain, domains=[])
    assert not Connection.objects.exists()


def test_a_domain_signs_in_through_one_connection(owner, workspace, domain):
    add(owner, workspace, domain)
    with pytest.raises(RuleViolation, match="another connection"):
        add(owner, workspace, domain, name="Second")


def test_http_issuer_refused_unless_allowed(owner, workspace, domain, settings):
    settings.SSO_ALLOW_HTTP_ISSUER = False
    with pytest.raises(RuleViolation, match="https"):
        add(owner, workspace, domain, issuer="http://idp.acme.test")
    with pytest.raises(RuleViolation):
        add(owner, workspace, domain, issuer="javascript:alert(1)")


def test_update_keeps_secret_when_empty_and_audits_only_that_it_changed(owner, workspace, domain):
    connection = add(owner, workspace, domain)
    fields = {
        "name": "Acme",
        "issuer": "https://idp.acme.test",
        "client_id": "portal",
        "domains": [domain],
        "default_role": builtin_role(catalog.VIEWER),
        "enabled": True,
    }
    connection_update(actor=owner, connection=connection, client_secret="", **fields)
    connection.refresh_from_db()
    assert connection.client_secret == SECRET and connection.name == "Acme"
    connection_update(actor=owner, connection=connection, client_secret="new-secret-abc", **fields)
    connection.refresh_from_db()
    assert connection.client_secret == "new-secret-abc"
    events = AuditEvent.objects.filter(action="sso_connection.update").order_by("pk")
    assert [e.after.get("client_secret") for e in events] == [None, "changed"]
    assert not any("new-secret-abc" in str(e.after) + str(e.before) for e in AuditEvent.objects.all())


def test_disable_and_remove_audited(owner, workspace, domain):
    connection = add(owner, workspace, domain)
    connection_set_enabled(actor=owner, connection=connection, enabled=False)
    connection_remove(actor=owner, connection=connection)
    assert not Connection.objects.exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="sso_connection").order_by("pk").values_list("action", flat=True)
    )
    assert actions == ["sso_connection.add", "sso_connection.disable", "sso_connection.remove"]


# --- pages -----------------------------------------------------------------------------------------


def test_pages_add_edit_disable_remove(client, owner, workspace, domain):
    client.force_login(owner)
    page = client.get(reverse("sso:index", args=[workspace.slug]))
    assert page.status_code == 200 and b"OpenID Connect" in page.content
    form = client.get(reverse("sso:add", args=[workspace.slug]))
    assert form.status_code == 200 and b"acme.test" in form.content
    response = client.post(
        reverse("sso:add", args=[workspace.slug]),
        {
            "name": "Acme IdP",
            "issuer": "https://idp.acme.test",
            "client_id": "portal",
            "client_secret": SECRET,
            "domains": [domain.pk],
            "default_role": builtin_role(catalog.MEMBER).pk,
            "enabled": "on",
        },
    )
    connection = Connection.objects.get()
    assert response.status_code == 302
    edit = client.get(reverse("sso:edit", args=[workspace.slug, connection.pk]))
    assert edit.status_code == 200
    assert f"/sso/oidc/c{connection.pk}/login/callback/".encode() in edit.content  # ready to copy
    assert SECRET.encode() not in edit.content
    assert SECRET.encode() not in client.get(reverse("sso:index", args=[workspace.slug])).content
    client.post(reverse("sso:enabled", args=[workspace.slug, connection.pk]), {"enabled": "off"})
    connection.refresh_from_db()
    assert not connection.enabled
    asked = client.post(reverse("sso:remove", args=[workspace.slug, connection.pk]))
    assert asked.status_code == 200 and Connection.objects.exists()  # confirmation first
    client.post(reverse("sso:remove", args=[workspace.slug, connection.pk]), {"confirm": "yes"})
    assert not Connection.objects.exists()


def test_pages_need_manage_sso(client, owner, workspace, domain):
    connection = add(owner, workspace, domain)
    member = add_member(workspace, catalog.MEMBER, UserFactory(email="mo@acme.test")).user
    client.force_login(member)
    for url in (
        reverse("sso:add", args=[workspace.slug]),
        reverse("sso:edit", args=[workspace.slug, connection.pk]),
        reverse("sso:remove", args=[workspace.slug, connection.pk]),
    ):
        assert client.get(url).status_code == 403
    assert (
        client.post(reverse("sso:enabled", args=[workspace.slug, connection.pk]), {"enabled": "off"}).status_code == 403
    )
    connection.refresh_from_db()
    assert connection.enabled


def test_other_workspaces_connection_ids_are_404(client, owner, workspace, domain):
    connection = add(owner, workspace, domain)
    intruder = UserFactory(email="ivan@beta.test")
    beta = make_workspace(intruder, "Beta")
    client.force_login(intruder)
    for name in ("sso:edit", "sso:remove"):
        assert client.get(reverse(name, args=[beta.slug, connection.pk])).status_code == 404
        assert client.post(reverse(name, args=[beta.slug, connection.pk]), {"confirm": "yes"}).status_code == 404
    assert client.post(reverse("sso:enabled", args=[beta.slug, connection.pk]), {"enabled": "off"}).status_code == 404
    assert client.get(reverse("sso:edit", args=[workspace.slug, connection.pk])).status_code == 404
    connection.refresh_from_db()
    assert connection.enabled and Connection.objects.count() == 1


def test_allauth_account_pages_are_not_reachable(client, owner):
    """Only the callback is routed: allauth's sign-in, sign-up, e-mail and connection pages are not
    a second way in, signed in or not."""
    paths = (
        "/accounts/3rdparty/",
        "/accounts/3rdparty/signup/",
        "/accounts/social/signup/",
        "/accounts/email/",
        "/accounts/oidc/c1/login/",
        "/sso/oidc/c1/login/",
        "/sso/login/",
        "/sso/signup/",
    )
    for path in paths:
        assert client.get(path).status_code in (302, 404)
        assert client.post(path).status_code in (302, 403, 404)
    client.force_login(owner)
    for path in paths:
        assert client.get(path).status_code == 404
    for name in ("account_login", "account_signup", "socialaccount_signup", "openid_connect_login"):
        with pytest.raises(NoReverseMatch):
            reverse(name, kwargs={"provider_id": "c1"} if name == "openid_connect_login" else {})
