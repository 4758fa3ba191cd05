"""invite_bulk's INVITE_BULK_MAX_BYTES holds for files whose size is not known in advance: a FIFO or
standard input (``--file /dev/stdin``) reports size 0, so the limit is counted while reading and the
command stops, with a CommandError and nothing written, as soon as it is passed."""

from __future__ import annotations

import io
import os
import threading

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from workspaces.models import Invite

LIMIT = 200_000
ROW = b"someone%d@example.com,member,,\n"


def payload(size: int) -> bytes:
    rows, n = [b"email,role,sites,teams\n"], 0
    total = len(rows[0])
    while total < size:
        row = ROW % n
        rows.append(row)
        total += len(row)
        n += 1
    return b"".join(rows)


class Writer(threading.Thread):
    """Writes ``data`` into a FIFO (by path) or a pipe (by file descriptor) in chunks; records how
    much got through."""

    def __init__(self, target, data: bytes):
        super().__init__(daemon=True)
        self.target, self.data, self.sent = target, data, 0

    def run(self):
        try:
            with open(self.target, "wb") as pipe:
                for start in range(0, len(self.data), 16_384):
                    pipe.write(self.data[start : start + 16_384])
                    pipe.flush()
                    self.sent = start + 16_384
        except (BrokenPipeError, OSError):
            pass  # the reader stopped: what the test wants


def invite_bulk(workspace, path: str):
    out, err = io.StringIO(), io.StringIO()
    call_command("invite_bulk", "--workspace", workspace.slug, "--file", path, "--no-email", stdout=out, stderr=err)
    return out.getvalue()


def nothing_written():
    return Invite.objects.count() == 0 and not AuditEvent.objects.filter(action__startswith="invite").exists()


@pytest.fixture
def limit(settings):
    settings.INVITE_BULK_MAX_BYTES = LIMIT
    return LIMIT


def test_a_fifo_over_the_limit_is_refused_while_reading(workspace, tmp_path, limit):
    fifo = tmp_path / "people.csv"
    os.mkfifo(fifo)
    data = payload(limit * 6)
    writer = Writer(fifo, data)
    writer.start()
    with pytest.raises(CommandError) as refused:
        invite_bulk(workspace, str(fifo))
    writer.join(timeout=10)
    message = str(refused.value)
    assert "INVITE_BULK_MAX_BYTES" in message and "Nothing was written" in message
    assert nothing_written()
    assert writer.sent < len(data), "the command read the whole stream instead of stopping at the limit"


def test_standard_input_over_the_limit_is_refused(workspace, limit):
    read_end, write_end = os.pipe()
    saved_stdin = os.dup(0)
    os.dup2(read_end, 0)
    os.close(read_end)
    data = payload(limit * 6)
    writer = Writer(write_end, data)
    writer.start()
    try:
        with pytest.raises(CommandError) as refused:
            invite_bulk(workspace, "/dev/stdin")
    finally:
        os.dup2(saved_stdin, 0)
        os.close(saved_stdin)
        writer.join(timeout=10)
    assert "INVITE_BULK_MAX_BYTES" in str(refused.value) and "Nothing was written" in str(refused.value)
    assert nothing_written()
    assert writer.sent < len(data)


def test_one_endless_line_is_refused_too(workspace, tmp_path, limit):
    """No newline to stop at: the limit still applies within a line, not only between lines."""
    fifo = tmp_path / "people.csv"
    os.mkfifo(fifo)
    data = b"email,role\n" + b"a" * (limit * 6)
    writer = Writer(fifo, data)
    writer.start()
    with pytest.raises(CommandError, match="INVITE_BULK_MAX_BYTES"):
        invite_bulk(workspace, str(fifo))
    writer.join(timeout=10)
    assert nothing_written()
    assert writer.sent < len(data)


def test_a_fifo_under_the_limit_is_read(workspace, tmp_path, limit):
    fifo = tmp_path / "people.csv"
    os.mkfifo(fifo)
    writer = Writer(fifo, payload(limit // 2))
    writer.start()
    out = invite_bulk(workspace, str(fifo))
    writer.join(timeout=10)
    assert "invited" in out and Invite.objects.count() > 1000
