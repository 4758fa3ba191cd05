"""The settings overview links to the two-factor requirement for those who may set it."""

from django.urls import reverse

from permissions import catalog
from tests.factories import add_member


def test_overview_links_to_the_two_factor_requirement_only_for_its_capability(client, workspace, owner):
    policy_url = reverse("two_factor:workspace_policy", args=[workspace.slug])
    overview = reverse("settings:index", args=[workspace.slug])
    client.force_login(owner)
    assert policy_url in client.get(overview).content.decode()
    billing_admin = add_member(workspace, catalog.BILLING_ADMIN)
    client.force_login(billing_admin.user)
    page = client.get(overview)
    assert page.status_code == 200
    assert policy_url not in page.content.decode()
