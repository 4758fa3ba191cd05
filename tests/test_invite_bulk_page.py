"""Inviting from a CSV file in the browser: /w/<workspace>/people/invite/bulk/.

Upload checks the file through the same core as ``invite_bulk`` (a dry run) and lists every row
that would be refused; confirm writes it, all or nothing. The refused side: people without
``invite_members`` (403), other workspaces (404), files too big, bad rows, forged or stale confirms.
"""

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from permissions import catalog
from tests.factories import UserFactory, add_member, make_workspace
from workspaces.models import Invite


def url(workspace):
    return f"/w/{workspace.slug}/people/invite/bulk/"


def upload(client, workspace, content: str | bytes, role="Member"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(url(workspace), {"file": SimpleUploadedFile("people.csv", data, "text/csv"), "role": role})


def upload_id(response) -> str:
    return re.search(r'name="upload" value="([^"]+)"', response.content.decode()).group(1)


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


def test_the_people_page_links_to_it(signed_in, workspace):
    page = signed_in.get(f"/w/{workspace.slug}/people/").content.decode()
    assert url(workspace) in page
    assert "Upload" in signed_in.get(url(workspace)).content.decode()


def test_upload_previews_and_confirm_invites(signed_in, workspace, django_capture_on_commit_callbacks):
    response = upload(signed_in, workspace, "email,role\nann@example.com,viewer\nBob@Example.com,\n")
    page = response.content.decode()
    assert response.status_code == 200 and "Ready to invite" in page and "New invitations: 2." in page
    assert not Invite.objects.exists()  # the preview writes nothing
    with django_capture_on_commit_callbacks(execute=True):
        done = signed_in.post(url(workspace), {"confirm": "1", "upload": upload_id(response)})
    assert done.status_code == 302 and done.url == f"/w/{workspace.slug}/people/"
    invites = dict(Invite.objects.filter(workspace=workspace).values_list("email", "role__key"))
    assert invites == {"ann@example.com": catalog.VIEWER, "bob@example.com": catalog.MEMBER}
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@example.com", "bob@example.com"]
    # The stored file is used once: confirming again invites nobody twice.
    again = signed_in.post(url(workspace), {"confirm": "1", "upload": upload_id(response)})
    assert again.status_code == 302 and again.url == url(workspace)
    assert len(mail.outbox) == 2


def test_a_bad_row_is_listed_and_nothing_can_be_confirmed(signed_in, workspace):
    response = upload(
        signed_in, workspace, "email,role\nann@example.com,member\nnot-an-address,member\ncid@example.com,wizard\n"
    )
    page = response.content.decode()
    assert "This file cannot be used" in page and "2 rows would be refused" in page
    assert "not a valid e-mail address" in page and "No workspace role “wizard”" in page
    assert 'name="upload"' not in page
    assert signed_in.post(url(workspace), {"confirm": "1", "upload": "made-up"}).status_code == 302
    assert not Invite.objects.exists()


def test_rule_3_holds_in_the_preview_and_the_confirm(client, workspace):
    admin = add_member(workspace, catalog.ADMIN).user
    client.force_login(admin)
    page = upload(client, workspace, "email,role\nboss@example.com,owner\n").content.decode()
    assert "This file cannot be used" in page and 'name="upload"' not in page
    assert not Invite.objects.exists()


def test_a_file_too_big_is_refused_before_it_is_read(signed_in, workspace, settings):
    settings.INVITE_BULK_MAX_BYTES = 100
    response = upload(signed_in, workspace, "email\n" + "someone@example.com\n" * 10)
    assert response.status_code == 200 and "files of up to" in response.content.decode()
    assert "invite_bulk" not in signed_in.session


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00garbage", b"email,role\n\x00\x00,\xff\n", b"nonsense\n", b'email\n"unterminated\n'],
)
def test_hostile_files_get_an_answer_not_an_error(signed_in, workspace, content):
    response = upload(signed_in, workspace, content)
    assert response.status_code == 200 and "This file cannot be used" in response.content.decode()
    assert not Invite.objects.exists()


def test_an_empty_file_is_refused(signed_in, workspace):
    response = upload(signed_in, workspace, b"")
    assert response.status_code == 200 and "The submitted file is empty." in response.content.decode()


def test_without_invite_members_it_is_forbidden(client, workspace):
    member = add_member(workspace, catalog.MEMBER).user
    client.force_login(member)
    assert client.get(url(workspace)).status_code == 403
    assert upload(client, workspace, "email\nann@example.com\n").status_code == 403
    assert client.post(url(workspace), {"confirm": "1", "upload": "x"}).status_code == 403
    assert "Invite from a CSV file" not in client.get(f"/w/{workspace.slug}/people/").content.decode()
    assert not Invite.objects.exists()


def test_another_workspace_is_not_found(client, workspace):
    stranger = UserFactory()
    make_workspace(stranger, "Elsewhere")
    client.force_login(stranger)
    assert client.get(url(workspace)).status_code == 404
    assert upload(client, workspace, "email\nann@example.com\n").status_code == 404
    assert not Invite.objects.exists()


def test_a_file_checked_in_one_workspace_cannot_be_confirmed_in_another(signed_in, workspace, owner):
    other = make_workspace(owner, "Other")
    response = upload(signed_in, workspace, "email\nann@example.com\n")
    stale = signed_in.post(url(other), {"confirm": "1", "upload": upload_id(response)})
    assert stale.status_code == 302 and stale.url == url(other)
    assert not Invite.objects.exists()


def test_signed_out_people_are_sent_to_sign_in(client, workspace):
    response = client.get(url(workspace))
    assert response.status_code == 302 and "/accounts/" in response.url
