"""Object ids in addresses, query parameters, forms, the admin and the API are ASCII digits only.

Python's ``int()`` (and so Django's integer fields) reads any Unicode decimal digit: "١" (Arabic-Indic
one) or "１" (fullwidth one) used to be taken as 1, so one object had many spellings and checks that
compared ids as text could be walked around. Each entry point refuses them now.
"""

from __future__ import annotations

import pytest
from django import forms
from django.urls import reverse

from audit.models import AuditEvent
from permissions import catalog
from tests.factories import UserFactory, add_member, make_experience, make_site
from workspaces.models import Collaborator, Experience, Site

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def spellings(pk: int) -> list[str]:
    return [str(pk).translate(ARABIC), str(pk).translate(FULLWIDTH)]


@pytest.fixture
def site(workspace):
    return make_site(workspace, "Shop")


def test_url_converters_take_ascii_digits_only(client, workspace, owner):
    experience = make_experience(workspace, creator=owner)
    client.force_login(owner)
    assert client.get(f"/w/{workspace.slug}/experiences/{experience.pk}/").status_code == 200
    for spelling in spellings(experience.pk):
        assert client.get(f"/w/{workspace.slug}/experiences/{spelling}/").status_code == 404


@pytest.mark.parametrize("translate", [ARABIC, FULLWIDTH])
def test_a_form_choice_by_id_takes_ascii_digits_only(client, workspace, owner, site, translate):
    client.force_login(owner)
    response = client.post(
        reverse("workspaces:experience_create", args=[workspace.slug]),
        {"title": "Sneaky", "site": str(site.pk).translate(translate)},
    )
    assert response.status_code == 200  # the form again, with an error
    assert not Experience.objects.filter(title="Sneaky").exists()


def test_model_choice_field_refuses_other_digits(workspace, site):
    field = forms.ModelChoiceField(queryset=Site.objects.all())
    assert field.clean(str(site.pk)) == site
    for spelling in spellings(site.pk):
        with pytest.raises(forms.ValidationError):
            field.clean(spelling)


def test_collaborator_add_takes_ascii_digits_only(client, workspace, owner):
    experience = make_experience(workspace, creator=owner)
    member = add_member(workspace, catalog.MEMBER)
    client.force_login(owner)
    url = reverse("collaborators:add", args=[workspace.slug, experience.pk])
    for spelling in spellings(member.pk):
        client.post(url, {"membership": spelling})
    assert not Collaborator.objects.filter(experience=experience, membership=member).exists()
    client.post(url, {"membership": str(member.pk)})
    assert Collaborator.objects.filter(experience=experience, membership=member).exists()


def test_explain_query_parameter_takes_ascii_digits_only(client, workspace, owner):
    member = add_member(workspace, catalog.MEMBER)
    viewer = add_member(workspace, catalog.VIEWER)
    client.force_login(viewer.user)
    url = reverse("explain:index", args=[workspace.slug])
    assert client.get(url, {"member": str(member.pk)}).status_code == 403  # exists, not theirs to ask
    for spelling in spellings(member.pk):
        assert client.get(url, {"member": spelling}).status_code == 404


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(email="staff@portal.test", is_staff=True, is_superuser=True))
    return client


def test_admin_object_addresses_take_ascii_digits_only(staff_client, workspace, site):
    for model, obj in (("workspace", workspace), ("site", site)):
        change = reverse(f"admin:workspaces_{model}_change", args=[obj.pk])
        assert staff_client.get(change).status_code == 200
        for spelling in spellings(obj.pk):
            response = staff_client.get(reverse(f"admin:workspaces_{model}_change", args=[spelling]))
            assert response.status_code != 200  # the admin says it does not exist
            assert obj.name not in response.content.decode()


def test_admin_audit_event_address_takes_ascii_digits_only(staff_client, workspace):
    event = AuditEvent.objects.filter(workspace=workspace).first()
    assert staff_client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code == 200
    for spelling in spellings(event.pk):
        assert staff_client.get(reverse("admin:audit_auditevent_change", args=[spelling])).status_code != 200


def test_lookups_refuse_other_digits(workspace):
    """The cause: integer fields read any Unicode digit. A query by such an id finds nothing."""
    for spelling in spellings(workspace.pk):
        with pytest.raises(ValueError):
            list(Site.objects.filter(workspace_id=spelling))
