import pytest

from tests.factories import UserFactory, make_workspace


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@acme.test", full_name="Olivia Owner")


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Acme")


@pytest.fixture(autouse=True)
def _check_api_state_of_this_test(monkeypatch):
    """The check API's answers in this process's memory belong to the test that asked, and so do
    the rate limits' slots it took and the calls it counted: what it did not send itself is dropped
    at its end, never sent by the timer during a later test (tests/test_key_counts.py tests the
    timer with a delay of its own)."""
    from permissions import key_counts
    from permissions.api_limits import clear_process_slots
    from permissions.check_cache import clear_process_answers

    clear_process_answers()
    clear_process_slots()
    monkeypatch.setattr(key_counts, "SEND_AFTER_SECONDS", 3600)
    yield
    key_counts._pending.take()


def pytest_runtest_setup(item):
    """``postgres_only`` tests need PostgreSQL (row locks, triggers): skipped on SQLite."""
    if item.get_closest_marker("postgres_only"):
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL")
