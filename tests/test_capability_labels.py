"""Every capability's label is written by hand in the catalog, for people, not made from its codename."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from permissions import catalog
from permissions.policy import Access
from tests.factories import add_member


def codename_default(codename: str) -> str:
    """What the label used to be: the codename with spaces ("Manage sso")."""
    return codename.replace("_", " ").capitalize()


@pytest.mark.parametrize("capability", catalog.CAPABILITIES.values(), ids=lambda cap: cap.codename)
def test_no_label_is_the_codename_spelt_out(capability):
    assert capability.label.strip() == capability.label and capability.label
    assert capability.label != codename_default(capability.codename)
    assert capability.label[0].isupper()


def test_labels_name_one_capability_each_within_a_scope():
    for scope in catalog.SCOPES:
        labels = [cap.label for cap in catalog.BY_SCOPE[scope]]
        assert len(labels) == len(set(labels)), scope


@pytest.mark.parametrize(
    "codename, label",
    [
        ("manage_sso", "Manage single sign-on (SSO)"),
        ("manage_ip_blocking", "Manage IP blocking"),
        ("manage_two_factor_policy", "Set the two-factor policy"),
    ],
)
def test_the_labels_people_complained_about(codename, label):
    assert catalog.CAPABILITIES[codename].label == label


def test_pages_and_refusals_use_the_written_label(client, workspace, owner):
    viewer = add_member(workspace, catalog.VIEWER).user
    with pytest.raises(PermissionDenied) as refused:
        Access(viewer).require("manage_sso", workspace)
    assert "Manage single sign-on (SSO)" in str(refused.value)
    client.force_login(owner)
    html = client.get(reverse("roles:matrix", args=[workspace.slug])).content.decode()
    assert "Manage single sign-on (SSO)" in html and "Manage sso" not in html
