"""Rule 5 over the whole portal: every URL that names an object of another workspace answers 404.

The URL map is walked (``get_resolver``), so a page added tomorrow is swept too. For every route
under ``/w/<workspace_slug>/``, signed in as the owner of one workspace:

- with the slug of a workspace the user is not a member of (and that workspace's own objects),
  GET and POST answer 404;
- with the user's own workspace slug but another workspace's object in one parameter (each
  parameter in turn, and all of them at once), GET and POST answer 404;
- with the user's own slug and own objects the same URL does not answer 404 (so the 404s above
  come from the check, not from a URL the sweep built wrong);
- none of those requests writes anything (no audit event, both workspaces' objects unchanged).

A 405 passes only where the same URL naming nothing at all answers 405 too (a POST-only page's
GET): it says nothing about the object.

A route parameter is filled from ``REFS_BY_URL``, ``REFS_BY_NAMESPACE`` or ``REFS_BY_PARAM`` (in
that order). A parameter they do not cover fails ``test_every_workspace_url_is_in_the_sweep``:
map the new page's parameter there (and, for a new kind of object, add a builder to
``BUILDERS``). A URL with parameters outside ``/w/<slug>/`` must be listed, with the reason, in
``NOT_WORKSPACE_SCOPED``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter

from audit.models import AuditEvent
from billing.services import billing_contact_add
from permissions import catalog
from permissions.keys import key_create
from permissions.roles import builtin_role
from permissions.services import role_save
from scim.tokens import scim_token_create
from sso.services import connection_add
from tests.factories import (
    UserFactory,
    add_member,
    make_experience,
    make_site,
    make_team,
    make_workspace,
    viewer_group_member_add,
)
from webhooks.models import Delivery
from webhooks.services import endpoint_add
from workspace_settings import attributes, integrations
from workspace_settings.services import ip_rules_add
from workspaces.experiences.services import collaborator_add
from workspaces.invites.services import invite_create
from workspaces.joining.services import auto_join, join_domain_add
from workspaces.models import JoinDomain, Workspace
from workspaces.sites.services import site_grant_set
from workspaces.teams.services import team_add_member
from workspaces.viewer_groups.services import viewer_group_create

pytestmark = pytest.mark.django_db

WORKSPACE_PARAM = "workspace_slug"


# --- the URL map ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    namespace: str
    params: tuple[str, ...]
    numeric: frozenset[str]  # the parameters the route only matches with digits

    @property
    def object_params(self) -> tuple[str, ...]:
        return tuple(p for p in self.params if p != WORKSPACE_PARAM)


def _walk(patterns, namespaces=(), converters=()):
    for entry in patterns:
        found = converters + tuple((getattr(entry.pattern, "converters", None) or {}).items())
        found += tuple((name, None) for name in entry.pattern.regex.groupindex if name not in dict(found))
        if isinstance(entry, URLResolver):
            inner = namespaces + ((entry.namespace,) if entry.namespace else ())
            yield from _walk(entry.url_patterns, inner, found)
        elif isinstance(entry, URLPattern):
            found = dict(found)
            yield Route(
                name=":".join(namespaces + (entry.name or "<unnamed>",)),
                namespace=":".join(namespaces),
                params=tuple(found),
                numeric=frozenset(name for name, converter in found.items() if isinstance(converter, IntConverter)),
            )


def all_routes() -> list[Route]:
    return [route for route in _walk(get_resolver().url_patterns) if not route.namespace.startswith("admin")]


def workspace_routes() -> list[Route]:
    return [route for route in all_routes() if WORKSPACE_PARAM in route.params]


# Routes with parameters that are not under a workspace, and why they need no place in the sweep.
NOT_WORKSPACE_SCOPED = {
    "accounts:verify": "a signed token for one account, no workspace object",
    "accounts:password_reset_confirm": "Django's signed reset link for one account",
    "accounts:email_change_confirm": "an address change's secret token, usable only by the account that asked",
    "api:member_permissions": "the check API: the workspace is the access key's (tests/test_api_*.py)",
    "api:member_profile": "a read API: the workspace is the access key's (tests/test_api_read.py)",
    "invites:accept": "an invitation's secret token; the invitation names its workspace",
    "public:experience": "a published experience's public page: who may open it is its visibility",
    "public:link": "a viewer's one-time link to a published experience",
    "openid_connect_callback": "an identity provider's answer; the connection names its workspace and the "
    "sign-in admits only its domains (tests/security/test_sso_hostile_idp.py)",
    "sso_saml_acs": "a SAML identity provider's signed answer; the connection names its workspace and the "
    "sign-in admits only its domains (tests/security/test_sso_saml_hostile_idp.py)",
    "sso_saml_acs_finish": "the same answer, held for the browser that brought it (a cookie), checked there",
    "sso_saml_metadata": "a SAML connection's public service-provider metadata: its entity ID and ACS URL",
    "two_factor:passkey_remove": "one's own passkey, looked up among the account's only (another's is a 404: "
    "tests/test_twofactor_passkeys.py)",
    **{
        f"scim:{name}": "SCIM: the workspace is the token's (tests/security/test_scim.py)"
        for name in ("user", "group", "schema", "resource_type", "resource_search", "not_found")
    },
}


# --- what fills each parameter ----------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A value for a route parameter: an attribute of one object of a world."""

    obj: str
    attr: str = "pk"


@dataclass(frozen=True)
class Const:
    """A value that names no workspace object (a catalogue key), the same in every workspace: only
    the slug decides whose page it is."""

    value: str


# By URL name, then by namespace, then by parameter name. A list means "try each" (a grant page
# takes a member's grant and a team's grant).
Refs = Ref | Const | list[Ref | Const]
REFS_BY_URL: dict[str, dict[str, Refs]] = {
    # the workspaces namespace mixes pages: its pk routes are experiences, named one by one
    "workspaces:experience_detail": {"pk": Ref("experience")},
    "workspaces:experience_edit": {"pk": Ref("experience")},
    "workspaces:experience_publish": {"pk": Ref("experience")},
    "workspaces:experience_unpublish": {"pk": Ref("experience")},
    "workspaces:experience_delete": {"pk": Ref("experience")},
    "site_access:grant_edit": {"grant_pk": [Ref("member_grant"), Ref("team_grant")]},
    "site_access:grant_revoke": {"grant_pk": [Ref("member_grant"), Ref("team_grant")]},
    "settings:ip_rule_remove": {"pk": Ref("ip_rule")},
    "settings:integration": {"key": Const(next(iter(integrations.BY_KEY)))},
    "settings:user_attribute_set": {"key": Const(next(iter(attributes.BY_KEY)))},
}
REFS_BY_NAMESPACE: dict[str, dict[str, Refs]] = {
    "roles": {"pk": [Ref("role"), Ref("site_role")]},
    "access_keys": {"pk": Ref("access_key")},
    "scim_tokens": {"pk": Ref("scim_token")},
    "teams": {"pk": Ref("team"), "grant_pk": Ref("team_grant"), "membership_pk": Ref("team_member")},
    "people": {"member_pk": Ref("member"), "invite_pk": Ref("invite")},
    "join_domains": {"pk": Ref("join_domain")},
    "join_requests": {"pk": Ref("join_request")},
    "collaborators": {"collaborator_pk": Ref("collaborator")},
    "viewer_groups": {"group_pk": Ref("viewer_group"), "member_pk": Ref("viewer")},
    "billing": {"contact_pk": Ref("billing_contact")},
    "sso": {"pk": Ref("sso_connection")},
    "webhooks": {"pk": Ref("webhook_endpoint"), "delivery_pk": Ref("webhook_delivery")},
}
REFS_BY_PARAM: dict[str, Refs] = {
    "site_slug": Ref("site", "slug"),
    "experience_pk": Ref("experience"),
}
# Object ids some pages take from the query string instead of the route.
QUERY_REFS: dict[str, list[dict[str, Callable[[World], str]]]] = {
    "explain:index": [
        {"member": lambda w: str(w.member.pk)},
        {"target": lambda w: f"site:{w.site.pk}"},
        {"target": lambda w: f"experience:{w.experience.pk}"},
    ],
}


def refs_for(route: Route, param: str) -> list[Ref | Const] | None:
    found = REFS_BY_URL.get(route.name, {}).get(param)
    if found is None:
        found = REFS_BY_NAMESPACE.get(route.namespace, {}).get(param)
    if found is None:
        found = REFS_BY_PARAM.get(param)
    if found is None:
        return None
    return found if isinstance(found, list) else [found]


# --- one workspace full of objects ------------------------------------------------------------------


class World:
    """A workspace and one object of every kind a URL can name, built when first asked for."""

    def __init__(self, workspace: Workspace, owner, domain: str):
        self.workspace, self.owner, self.domain = workspace, owner, domain
        self._built: dict[str, object] = {}

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in BUILDERS:
            raise AttributeError(name)
        if name not in self._built:
            self._built[name] = BUILDERS[name](self)
        return self._built[name]

    def value(self, ref: Ref | Const) -> str:
        if isinstance(ref, Const):
            return ref.value
        return str(getattr(getattr(self, ref.obj), ref.attr))

    def build_everything(self) -> World:
        for name in BUILDERS:
            getattr(self, name)
        return self


def _custom_role(w: World, scope: str):
    caps = {"view_members"} if scope == catalog.WORKSPACE else {"view_site"}
    name = f"{w.workspace.name} {scope} role"
    return role_save(actor=w.owner, workspace=w.workspace, scope=scope, name=name, capabilities=caps)


def _team_member(w: World):
    team_add_member(actor=w.owner, team=w.team, membership=w.member)
    return w.member


def _member_grant(w: World):
    editor = builtin_role(catalog.EDITOR, catalog.SITE)
    return site_grant_set(actor=w.owner, site=w.site, role=editor, membership=w.member)


def _team_grant(w: World):
    viewer = builtin_role(catalog.SITE_VIEWER, catalog.SITE)
    return site_grant_set(actor=w.owner, site=w.site, role=viewer, team=w.team)


def _invite(w: World):
    result = invite_create(
        actor=w.owner, workspace=w.workspace, emails=[f"invitee@{w.domain}"], role=builtin_role(catalog.MEMBER)
    )
    return result.invited[0]


def _join_domain(w: World):
    # The owner's verified address is at this domain, so it is verified at once and can admit.
    return join_domain_add(
        actor=w.owner,
        workspace=w.workspace,
        domain=w.domain,
        role=builtin_role(catalog.MEMBER),
        mode=JoinDomain.Mode.REQUEST,
    )


def _join_request(w: World):
    assert w.join_domain.verified_at is not None
    return auto_join(UserFactory(email=f"asker@{w.domain}"))


def _viewer_group(w: World):
    return viewer_group_create(actor=w.owner, workspace=w.workspace, name=f"{w.workspace.name} viewers")


def _sso_connection(w: World):
    return connection_add(
        actor=w.owner,
        workspace=w.workspace,
        name=f"{w.workspace.name} IdP",
        issuer=f"https://idp.{w.domain}",
        client_id="portal",
        client_secret="sweep-secret",
        domains=[w.join_domain],
        default_role=builtin_role(catalog.MEMBER),
    )


BUILDERS: dict[str, Callable[[World], object]] = {
    "member": lambda w: add_member(w.workspace, catalog.MEMBER),
    "site": lambda w: make_site(w.workspace, f"{w.workspace.name} shop"),
    "experience": lambda w: make_experience(w.workspace, creator=w.owner, title=f"{w.workspace.name} launch"),
    "team": lambda w: make_team(w.workspace, f"{w.workspace.name} team"),
    "team_member": _team_member,
    "member_grant": _member_grant,
    "team_grant": _team_grant,
    "collaborator": lambda w: collaborator_add(actor=w.owner, experience=w.experience, membership=w.member),
    "role": lambda w: _custom_role(w, catalog.WORKSPACE),
    "site_role": lambda w: _custom_role(w, catalog.SITE),
    "access_key": lambda w: key_create(actor=w.owner, workspace=w.workspace, name="Sweep key")[0],
    "scim_token": lambda w: scim_token_create(actor=w.owner, workspace=w.workspace, name="Sweep token")[0],
    "webhook_endpoint": lambda w: endpoint_add(actor=w.owner, workspace=w.workspace, url="http://127.0.0.1:9/hook")[0],
    # the endpoint's own "webhook.add" event, waiting to be delivered
    "webhook_delivery": lambda w: Delivery.objects.filter(endpoint=w.webhook_endpoint).first(),
    "invite": _invite,
    "join_domain": _join_domain,
    "join_request": _join_request,
    "viewer_group": _viewer_group,
    "viewer": lambda w: viewer_group_member_add(actor=w.owner, group=w.viewer_group, email=f"viewer@{w.domain}"),
    "ip_rule": lambda w: ip_rules_add(actor=w.owner, workspace=w.workspace, text="203.0.113.0/24")[0],
    "sso_connection": _sso_connection,
    "billing_contact": lambda w: billing_contact_add(actor=w.owner, workspace=w.workspace, email=f"bills@{w.domain}"),
}


@pytest.fixture
def mine(workspace, owner) -> World:
    return World(workspace, owner, "acme.test").build_everything()


@pytest.fixture
def theirs() -> World:
    owner = UserFactory(email="owner@other.test")
    return World(make_workspace(owner, "Other corp"), owner, "other.test").build_everything()


# --- building and judging the requests --------------------------------------------------------------


# Plausible form fields, so a view that forgot its check would have something to act on.
POST_DATA = {"name": "Taken", "title": "Taken", "enabled": "on", "confirm": "on", "email": "x@taken.test"}
NOT_A_SLUG = "no-such-thing"
NOT_AN_ID = "987654321"


def covered(route: Route) -> bool:
    return all(refs_for(route, param) is not None for param in route.object_params)


def kwargs_for(route: Route, world_for: Callable[[str], World], pick: dict[str, int] | None = None) -> dict:
    """Route kwargs, each parameter (the slug included) from the world ``world_for(param)``."""
    kwargs = {WORKSPACE_PARAM: world_for(WORKSPACE_PARAM).workspace.slug}
    for param in route.object_params:
        kwargs[param] = world_for(param).value(refs_for(route, param)[(pick or {}).get(param, 0)])
    return kwargs


def ghost(route: Route, kwargs: dict, param: str) -> dict:
    """The same kwargs with ``param`` naming nothing at all."""
    return {**kwargs, param: NOT_AN_ID if param in route.numeric else NOT_A_SLUG}


def foreign_variants(route: Route, mine: World, theirs: World) -> list[tuple[str, dict, dict]]:
    """(what is foreign, kwargs, kwargs naming nothing there) under the user's own slug: each object
    parameter in turn with each of its alternatives, then all of them at once."""
    variants = []
    for param in route.object_params:
        for index, ref in enumerate(refs_for(route, param)):
            if isinstance(ref, Const):
                continue  # names no workspace object
            kwargs = kwargs_for(route, lambda p, param=param: theirs if p == param else mine, {param: index})
            variants.append((f"their {param}", kwargs, ghost(route, kwargs, param)))
    objects = [p for p in route.object_params if not isinstance(refs_for(route, p)[0], Const)]
    if len(objects) > 1:
        kwargs = kwargs_for(route, lambda p: mine if p == WORKSPACE_PARAM else theirs)
        variants.append(("all their ids", kwargs, ghost(route, kwargs, objects[0])))
    return variants


def with_query(url: str, query: dict[str, Callable[[World], str]], world: World) -> str:
    return url + "?" + "&".join(f"{key}={make(world)}" for key, make in query.items())


def refusals(client, url: str, nothing_url: str) -> list[str]:
    """What is wrong with GET and POST of ``url``, a URL that names something of another workspace.

    404 is right. 405 is right too when the URL naming nothing at all (``nothing_url``) answers
    405 as well: the page does not serve that method, whatever it names, so the answer tells
    nothing about the object.
    """
    wrong = []
    for method in ("get", "post"):
        status = (
            getattr(client, method)(url, POST_DATA).status_code if method == "post" else client.get(url).status_code
        )
        if status == 404:
            continue
        if status == 405 and getattr(client, method)(nothing_url).status_code == 405:
            continue
        wrong.append(f"{method.upper()} {url} → {status}")
    return wrong


def _snapshot(world: World) -> dict:
    """Every object of the world as stored now (None once deleted)."""
    snapshot = {}
    for name in BUILDERS:
        obj = getattr(world, name)
        snapshot[name] = type(obj).objects.filter(pk=obj.pk).values().first()
    snapshot["workspace"] = Workspace.objects.filter(pk=world.workspace.pk).values().first()
    return snapshot


# --- the tests --------------------------------------------------------------------------------------


def test_the_sweep_finds_the_known_pages():
    names = {route.name for route in workspace_routes()}
    assert {"workspaces:detail", "workspaces:site_edit", "roles:edit", "access_keys:revoke", "activity:index"} <= names
    assert next(r for r in workspace_routes() if r.name == "teams:member_remove").object_params == (
        "pk",
        "membership_pk",
    )


def test_every_workspace_url_is_in_the_sweep():
    missing = [
        f"{route.name} ({param})"
        for route in workspace_routes()
        for param in route.object_params
        if refs_for(route, param) is None
    ]
    unnamed = [route.name for route in workspace_routes() if route.name.endswith("<unnamed>")]
    assert not unnamed, f"Name these workspace URLs so the sweep can reverse them: {unnamed}"
    assert not missing, (
        "New workspace URL parameters the isolation sweep cannot fill; add them to REFS_* (and a "
        f"builder to BUILDERS) in tests/test_isolation_sweep.py: {missing}"
    )


def test_every_other_url_with_parameters_is_accounted_for():
    """A page that names an object without a workspace slug bypasses the sweep: say why it may."""
    outside = {
        route.name
        for route in all_routes()
        if route.params and WORKSPACE_PARAM not in route.params and route.name not in NOT_WORKSPACE_SCOPED
    }
    assert not outside, f"URLs with parameters outside /w/<slug>/; add to NOT_WORKSPACE_SCOPED with why: {outside}"


def _each_alternative(route: Route) -> list[dict[str, int]]:
    picks = [{}]
    for param in route.object_params:
        picks += [{param: index} for index in range(1, len(refs_for(route, param)))]
    return picks


def test_own_slug_and_own_ids_do_not_404(client, mine):
    """The control: the URLs the sweep builds are right, so its 404s mean refusals."""
    client.force_login(mine.owner)
    wrong = []
    for route in filter(covered, workspace_routes()):
        for pick in _each_alternative(route):
            url = reverse(route.name, kwargs=kwargs_for(route, lambda p: mine, pick))
            urls = [url] + [with_query(url, query, mine) for query in QUERY_REFS.get(route.name, [])]
            wrong += [f"GET {url} ({route.name})" for url in urls if client.get(url).status_code == 404]
    assert not wrong, "These URLs answer 404 even with the workspace's own objects: " + ", ".join(wrong)


def test_a_workspace_the_user_is_not_in_is_404_everywhere(client, mine, theirs):
    client.force_login(mine.owner)
    events, untouched = AuditEvent.objects.count(), _snapshot(theirs)
    leaks = []
    for route in filter(covered, workspace_routes()):
        kwargs = kwargs_for(route, lambda p: theirs)
        url = reverse(route.name, kwargs=kwargs)
        nothing = reverse(route.name, kwargs={**kwargs, WORKSPACE_PARAM: NOT_A_SLUG})
        leaks += refusals(client, url, nothing)
        for query in QUERY_REFS.get(route.name, []):
            leaks += refusals(client, with_query(url, query, theirs), nothing)
    assert not leaks, "Another workspace's pages must answer 404: " + ", ".join(leaks)
    assert AuditEvent.objects.count() == events, "a refused request wrote something"
    assert _snapshot(theirs) == untouched


def test_another_workspaces_ids_under_the_users_own_slug_are_404(client, mine, theirs):
    client.force_login(mine.owner)
    events, untouched = AuditEvent.objects.count(), (_snapshot(mine), _snapshot(theirs))
    leaks = []
    for route in filter(covered, workspace_routes()):
        for what, kwargs, nothing_kwargs in foreign_variants(route, mine, theirs):
            found = refusals(client, reverse(route.name, kwargs=kwargs), reverse(route.name, kwargs=nothing_kwargs))
            leaks += [f"{leak} ({what})" for leak in found]
        for query in QUERY_REFS.get(route.name, []):
            url = reverse(route.name, kwargs=kwargs_for(route, lambda p: mine))
            nothing = url + "?" + "&".join(f"{key}={NOT_AN_ID}" for key in query)
            leaks += refusals(client, with_query(url, query, theirs), nothing)
    assert not leaks, "Another workspace's objects must answer 404: " + ", ".join(leaks)
    assert AuditEvent.objects.count() == events, "a refused request wrote something"
    assert (_snapshot(mine), _snapshot(theirs)) == untouched
