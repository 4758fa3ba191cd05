"""``/healthz``: answers without signing in, without a query, and only to GET and HEAD."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext


def test_healthz_answers_without_a_query_or_a_session(client, db):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert len(queries) == 0
    assert "sessionid" not in response.cookies


def test_healthz_refuses_other_methods(client, db):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200
