import pytest

from tests.factories import UserFactory, make_workspace


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@acme.test", full_name="Olivia Owner")


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Acme")


def pytest_runtest_setup(item):
    """``postgres_only`` tests need PostgreSQL (row locks, triggers): skipped on SQLite."""
    if item.get_closest_marker("postgres_only"):
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL")
