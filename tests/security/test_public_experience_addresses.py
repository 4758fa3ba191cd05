"""A published experience's public address holds an unguessable token, not its sequential id:
"anyone with the link" must not mean "anyone who counts from 1"."""

from __future__ import annotations

import re

import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import make_experience
from workspaces.experiences.services import experience_publish, experience_update
from workspaces.models import Experience

SECRET = "Premiere on Friday."


@pytest.fixture
def published(workspace, owner):
    experience = make_experience(workspace, creator=owner, title="Launch film")
    experience_update(actor=owner, experience=experience, content=SECRET)
    experience_publish(actor=owner, experience=experience, visibility="public")
    return experience


def test_counting_ids_finds_nothing(client, published):
    for pk in range(0, published.pk + 5):
        response = client.get(f"/p/{pk}/")
        assert response.status_code == 404, pk
        assert SECRET not in response.content.decode()
        assert client.post(f"/p/{pk}/access/some-token/").status_code == 404


def test_the_token_address_opens_it(client, published):
    response = client.get(f"/p/{published.public_token}/")
    assert response.status_code == 200
    assert SECRET in response.content.decode()


def test_tokens_are_long_random_and_distinct(workspace, owner):
    experiences = [make_experience(workspace, creator=owner, title=f"E{i}") for i in range(20)]
    tokens = {experience.public_token for experience in experiences}
    assert len(tokens) == 20
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43,}", token) for token in tokens)
    assert not any(str(experience.pk) == experience.public_token for experience in experiences)


def test_tokens_are_unique_in_the_database(workspace, owner, published):
    other = make_experience(workspace, creator=owner, title="Other")
    with pytest.raises(IntegrityError):
        Experience.objects.filter(pk=other.pk).update(public_token=published.public_token)


def test_members_find_the_address_on_the_experience_page(client, workspace, owner, published):
    client.force_login(owner)
    page = client.get(published.get_absolute_url()).content.decode()
    assert f"/p/{published.public_token}/" in page


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_experiences_distinct_tokens(owner):
    before, after = [("workspaces", "0002_viewerlink")], [("workspaces", "0003_experience_public_token")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old_apps = executor.loader.project_state(before).apps
        Workspace = old_apps.get_model("workspaces", "Workspace")
        OldExperience = old_apps.get_model("workspaces", "Experience")
        workspace = Workspace.objects.create(name="Old", slug="old")
        for i in range(3):
            OldExperience.objects.create(workspace=workspace, title=f"Old {i}")
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new_apps = executor.loader.project_state(after).apps
        tokens = list(new_apps.get_model("workspaces", "Experience").objects.values_list("public_token", flat=True))
        assert len(tokens) == 3 and len(set(tokens)) == 3 and all(len(token) >= 43 for token in tokens)
    finally:
        MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
