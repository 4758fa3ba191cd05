"""A real broker and a real worker: ``celery -A portal worker`` started here, a mail delivered through
it to a real SMTP server on 127.0.0.1, and a periodic job run by it against the committed data.

RabbitMQ on 127.0.0.1:5672 (guest/guest; .ci/run starts it), and Redis on 127.0.0.1:6379 as the
alternative broker. PostgreSQL only: the worker is another process, so it must see the test's
committed rows (an SQLite test database lives in the test process's memory). Each run uses a
queue of its own, so workers of other runs on the same broker never take its tasks.
"""

from __future__ import annotations

import datetime
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from celery import signals
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from kombu import pools

from permissions import catalog
from permissions.roles import builtin_role
from portal.celery import app
from tests.factories import make_experience, viewer_group_member_add
from tests.mail_receiver import Receiver, Running
from workspaces.experiences.services import experience_publish
from workspaces.invites.services import invite_create
from workspaces.models import Invite
from workspaces.tasks import purge_expired_invites
from workspaces.viewer_groups.services import viewer_group_create

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

BROKERS = {
    "rabbitmq": os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    "redis": os.environ.get("TEST_REDIS_BROKER_URL", "redis://127.0.0.1:6379/2"),
}
MAIL_DELAY = 2.0  # seconds the SMTP server takes to accept a message
WAIT = 60


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=2):
            return True
    except OSError:
        return False


def wait_for(condition, what: str, log: Path | None = None):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.2)
    detail = log.read_text() if log is not None and log.exists() else ""
    pytest.fail(f"Timed out waiting for {what}.\n{detail}")


@pytest.fixture(params=list(BROKERS))
def broker(request):
    url = BROKERS[request.param]
    if not reachable(url):
        if request.param == "rabbitmq" and os.environ.get("CI"):
            pytest.fail(f"RabbitMQ is not reachable at {url}; .ci/run starts it.")
        pytest.skip(f"{request.param} is not reachable at {url}")
    return url


@pytest.fixture
def smtp():
    running = Running(Receiver(delay=MAIL_DELAY))
    yield running
    running.stop()


@pytest.fixture
def worker(broker, smtp, tmp_path):
    """A worker process on its own queue; this process publishes to the broker for the test."""
    queue = f"test-{uuid.uuid4().hex}"
    database = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "EMAIL_"))},
        "DJANGO_SETTINGS_MODULE": "portal.settings.local",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "CELERY_BROKER_URL": broker,
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", queue, "-n", f"{queue}@%h"]
            + ["--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url", "task_default_queue")}
    app.conf.update(task_always_eager=False, broker_url=broker, task_default_queue=queue)
    pools.reset()  # producers made for the in-process broker by earlier tests
    app._pool = app.amqp._producer_pool = None
    try:
        wait_for(lambda: "ready." in log.read_text() or process.poll() is not None, "the worker to start", log)
        assert process.poll() is None, log.read_text()
        yield process, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with app.connection_for_write(broker) as conn:  # the queue was this run's alone
            conn.default_channel.queue_delete(queue)
        app.conf.update(saved)
        pools.reset()  # the next test publishes through a connection of its own
        app._pool = app.amqp._producer_pool = None


@pytest.fixture
def published():
    """The headers of every task this process publishes."""
    headers = []

    def keep(sender=None, headers=None, **kwargs):
        kept.append(headers)

    kept = headers

    signals.before_task_publish.connect(keep, weak=False)
    yield headers
    signals.before_task_publish.disconnect(keep)


def test_a_viewer_link_is_mailed_by_the_worker_and_the_page_does_not_wait(
    worker, smtp, published, client, owner, workspace
):
    process, log = worker
    group = viewer_group_create(actor=owner, workspace=workspace, name="Press")
    viewer_group_member_add(actor=owner, group=group, email="ada@example.com")
    experience = make_experience(workspace, creator=owner)
    experience_publish(actor=owner, experience=experience, visibility="restricted", viewer_groups=[group])
    page = reverse("public:experience", args=[experience.public_token])

    started = time.monotonic()
    response = client.post(page, {"email": "ada@example.com"})
    answered_in = time.monotonic() - started
    assert response.status_code in (200, 302)
    # The answer came before the mail server had even accepted the message.
    assert answered_in < MAIL_DELAY
    assert smtp.receiver.messages == []

    wait_for(lambda: smtp.receiver.messages, "the mail to arrive", log)
    [(recipients, message)] = smtp.receiver.messages
    assert recipients == ["ada@example.com"]
    link = re.search(r"http://testserver(/p/\S+)", smtp.receiver.text_of()).group(1)
    assert experience.title in message["Subject"] or experience.title in smtp.receiver.text_of()
    # The link the worker mailed is the one the request made: it opens the experience.
    opened = client.post(link, follow=True)
    assert opened.status_code == 200

    # Published with a count in place of the mail; the worker's log names the task, never the link.
    [headers] = published
    assert headers["argsrepr"] == "()"
    assert headers["kwargsrepr"] == "{'messages': '<1 message(s) to 1 recipient(s)>'}"
    wait_for(lambda: "succeeded" in log.read_text(), "the worker to log the task", log)
    text = log.read_text()
    assert re.search(r"Task mail\.send\[[0-9a-f-]+\] received", text)
    assert re.search(r"Task mail\.send\[[0-9a-f-]+\] succeeded in [0-9.]+s: 1", text)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert token not in text and "ada@example.com" not in text


def test_a_periodic_job_runs_on_the_worker_against_the_committed_data(worker, owner, workspace):
    process, log = worker
    result = invite_create(
        actor=owner, workspace=workspace, emails=["old@example.com"], role=builtin_role(catalog.MEMBER)
    )
    Invite.objects.filter(pk=result.invited[0].pk).update(expires_at=timezone.now() - datetime.timedelta(days=31))

    purge_expired_invites.delay()
    wait_for(lambda: not Invite.objects.exists(), "the worker to purge the expired invitation", log)
    wait_for(lambda: "workspaces.purge_expired_invites" in log.read_text(), "the worker's log", log)
