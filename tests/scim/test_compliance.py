"""scim2-tester, a SCIM 2.0 compliance checker, run against the running server.

It reads the discovery documents, then creates, reads, lists, replaces, patches and deletes Users
and Groups with random values. Every check of what the portal says it supports must pass; the
summary is printed (``pytest -s``) for the record.
"""

from __future__ import annotations

from collections import Counter

import pytest
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from scim.tokens import scim_token_create
from tests.factories import make_workspace

pytestmark = pytest.mark.django_db(transaction=True)

FAILED = {Status.ERROR, Status.CRITICAL}


def test_scim2_tester_finds_no_failure(live_server):
    workspace = make_workspace(name="Compliance")
    _token, raw = scim_token_create(actor=None, workspace=workspace, name="scim2-tester")
    # Closed at the end, so no kept-alive connection holds a server thread (and its database
    # connection) past the test.
    with Client(base_url=f"{live_server.url}/scim/v2", headers={"Authorization": f"Bearer {raw}"}, timeout=30) as http:
        results = check_server(SyncSCIMClient(http))
    counts = Counter(result.status.name for result in results)
    print(f"\nscim2-tester: {len(results)} checks: {dict(sorted(counts.items()))}")
    failures = [f"{r.title} [{r.resource_type}]: {r.reason}" for r in results if r.status in FAILED]
    for line in failures:
        print("  FAILED", line)
    assert not failures
