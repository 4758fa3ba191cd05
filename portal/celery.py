"""The Celery application: mail and periodic jobs run on a worker and a scheduler (beat).

Its configuration is the Django settings whose names start with ``CELERY_`` (portal/settings/base.py):
``CELERY_BROKER_URL`` names the queue (RabbitMQ in production, Redis as an alternative); without
it every task runs at once in the process that queued it, so ``make run`` needs no broker.
Tasks are found in each installed app's ``tasks.py`` and in the modules ``CELERY_IMPORTS`` names.

    celery -A portal worker --loglevel=INFO
    celery -A portal beat --loglevel=INFO

Like the WSGI entry point, a worker started without DJANGO_SETTINGS_MODULE uses the production
settings; set ``DJANGO_SETTINGS_MODULE=portal.settings.local`` to run one on a development machine.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
