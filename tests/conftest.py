import pytest

from tests.factories import UserFactory, make_workspace


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@acme.test", full_name="Olivia Owner")


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Acme")
