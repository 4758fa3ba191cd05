"""The client address used by sign-in throttling and the audit log."""

import pytest
from django.test import RequestFactory, override_settings

from kernel.client_ip import client_ip


def request_from(remote: str, forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@override_settings(PROXY_COUNT=0)
def test_without_a_proxy_the_forwarded_header_is_ignored():
    assert client_ip(request_from("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


@pytest.mark.parametrize(
    ("forwarded", "proxies", "expected"),
    [
        ("198.51.100.7", 1, "198.51.100.7"),
        ("6.6.6.6, 198.51.100.7", 1, "198.51.100.7"),  # the client forged the first entry
        ("6.6.6.6, 198.51.100.7, 10.0.0.2", 2, "198.51.100.7"),
        ("not-an-address", 1, "10.0.0.1"),
        ("", 1, "10.0.0.1"),
    ],
)
def test_behind_proxies_the_entry_the_proxies_wrote_is_used(forwarded, proxies, expected):
    with override_settings(PROXY_COUNT=proxies):
        assert client_ip(request_from("10.0.0.1", forwarded)) == expected


@override_settings(PROXY_COUNT=1)
def test_audit_events_record_the_client_behind_the_proxy(client, workspace, owner):
    from audit.models import AuditEvent

    client.force_login(owner)
    client.post(
        "/w/new/", {"name": "Proxied", "time_zone": "UTC"}, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert AuditEvent.objects.filter(action="workspace.create", ip_address="198.51.100.7").exists()


@override_settings(PROXY_COUNT=0)
def test_sign_in_throttling_is_not_dodged_with_a_forged_header(client, owner, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/accounts/login/",
            {"username": owner.email, "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
    response = client.post(
        "/accounts/login/",
        {"username": owner.email, "password": "correct horse battery staple"},
        HTTP_X_FORWARDED_FOR="198.51.100.200",
    )
    assert response.status_code == 429
