"""Every page carries a Content-Security-Policy that allows only the portal's own scripts and styles
(no inline script, no inline style, no framing, no plugins) and a Permissions-Policy that turns off
the browser features the portal never uses. The templates hold no inline script or style, so the
policy breaks nothing (the browser tests run under it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from permissions.keys import key_create
from tests.factories import make_experience
from workspaces.experiences.services import experience_publish


def directives(response) -> dict[str, set[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        parsed[name] = set(values)
    return parsed


@pytest.fixture
def pages(client, workspace, owner):
    experience = make_experience(workspace, creator=owner)
    experience_publish(actor=owner, experience=experience, visibility="public")
    raw = key_create(actor=None, workspace=workspace, name="k")[1]
    anonymous = {
        "sign-in": reverse("accounts:login"),
        "public experience": reverse("public:experience", args=[experience.public_token]),
        "admin sign-in": reverse("admin:login"),
        "a 404": "/no-such-page/",
    }
    return client, owner, anonymous, raw


def assert_strict_csp(response):
    policy = directives(response)
    assert policy["default-src"] == {"'self'"}
    assert policy["script-src"] == {"'self'"}
    assert policy["style-src"] == {"'self'"}
    assert policy["object-src"] == {"'none'"}
    assert policy["base-uri"] == {"'none'"}
    assert policy["frame-ancestors"] == {"'none'"}
    assert policy["form-action"] == {"'self'"}
    joined = response["Content-Security-Policy"]
    assert "unsafe-inline" not in joined and "unsafe-eval" not in joined and "*" not in joined


def assert_permissions_policy(response):
    header = response["Permissions-Policy"]
    features = dict(item.strip().split("=", 1) for item in header.split(","))
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert features[feature] == "()", feature


def test_anonymous_pages_carry_both_headers(pages):
    client, _, anonymous, _ = pages
    for name, url in anonymous.items():
        response = client.get(url)
        assert response.status_code in (200, 404), name
        assert_strict_csp(response)
        assert_permissions_policy(response)


def test_signed_in_pages_carry_both_headers(pages, workspace):
    client, owner, _, _ = pages
    client.force_login(owner)
    for url in ("/", reverse("people:index", args=[workspace.slug]), reverse("accounts:profile")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_strict_csp(response)
        assert_permissions_policy(response)


def test_api_answers_carry_both_headers(pages):
    client, owner, _, raw = pages
    response = client.get(
        "/api/v1/check", {"user": owner.email, "permission": "view_workspace"}, HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 200
    assert_strict_csp(response)
    assert_permissions_policy(response)


INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:",
    re.IGNORECASE,
)


def test_templates_hold_no_inline_script_style_or_event_handler():
    """What the policy would block must not be in the templates to begin with (e-mails excepted:
    mail clients do not apply the portal's headers)."""
    root = Path(settings.BASE_DIR) / "templates"
    offenders = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in root.rglob("*.html")
        if "emails" not in path.parts
        for match in INLINE.finditer(path.read_text())
    ]
    assert offenders == []
