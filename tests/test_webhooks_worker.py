"""A real broker and worker deliver webhooks: ``celery -A portal worker`` started here, on RabbitMQ,
posting to the tests' HTTP receiver on 127.0.0.1, which checks the signature as a subscriber would.

PostgreSQL only, as tests/test_celery_worker.py (whose worker fixture this mirrors): the worker is
another process and must see the committed rows. The worker retries after one second here
(WEBHOOKS_RETRY_BASE_SECONDS=1) so a failed first try is tried again within the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection
from kombu import pools
from standardwebhooks import Webhook

from portal.celery import app
from tests.test_celery_worker import reachable, wait_for
from tests.webhook_receiver import WebhookReceiver
from webhooks.models import Delivery
from webhooks.services import endpoint_add
from workspaces.teams.services import team_create

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

RABBITMQ = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture
def receiver():
    running = WebhookReceiver()
    yield running
    running.stop()


@pytest.fixture
def worker(tmp_path):
    if not reachable(RABBITMQ):
        if os.environ.get("CI"):
            pytest.fail(f"RabbitMQ is not reachable at {RABBITMQ}; .ci/run starts it.")
        pytest.skip(f"RabbitMQ is not reachable at {RABBITMQ}")
    queue = f"test-{uuid.uuid4().hex}"
    database = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "EMAIL_", "WEBHOOKS_"))},
        "DJANGO_SETTINGS_MODULE": "portal.settings.local",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CELERY_BROKER_URL": RABBITMQ,
        "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "true",
        "WEBHOOKS_RETRY_BASE_SECONDS": "1",
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
    app.conf.update(task_always_eager=False, broker_url=RABBITMQ, task_default_queue=queue)
    pools.reset()
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
        with app.connection_for_write(RABBITMQ) as conn:
            conn.default_channel.queue_delete(queue)
        app.conf.update(saved)
        pools.reset()
        app._pool = app.amqp._producer_pool = None


def test_the_worker_delivers_in_order_retries_with_the_same_id_and_signs(worker, receiver, owner, workspace):
    process, log = worker
    receiver.answers = [200, 500]  # its own "webhook.add" goes; the first team's first try fails
    endpoint, secret = endpoint_add(actor=owner, workspace=workspace, url=receiver.url)
    wait_for(lambda: len(receiver.received) == 1, "the endpoint's first event", log)
    team_create(actor=owner, workspace=workspace, name="One")
    team_create(actor=owner, workspace=workspace, name="Two")

    wait_for(lambda: len(receiver.received) == 4, "the retry and the next event", log)
    types = [r.json["type"] for r in receiver.received]
    words = [r.json["data"]["target"]["words"] for r in receiver.received[1:]]
    assert types == ["webhook.add", "team.create", "team.create", "team.create"]
    assert words == ["team One", "team One", "team Two"]  # Two waited behind One's retry
    assert receiver.received[1].headers["webhook-id"] == receiver.received[2].headers["webhook-id"]
    for got in receiver.received:
        Webhook(secret).verify(got.body, got.headers)  # raises when it does not verify
    wait_for(
        lambda: set(Delivery.objects.filter(endpoint=endpoint).values_list("status", flat=True)) == {"delivered"},
        "the deliveries to be marked delivered",
        log,
    )
    text = log.read_text()
    assert "webhooks.deliver" in text
    assert secret not in text and secret[6:] not in text
