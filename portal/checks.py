"""System checks of the project's configuration."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def broker_configured(app_configs, **kwargs):
    """In production mail must leave through the queue: without a broker it is sent inside requests,
    which then wait for the mail server (and their timing tells whether a mail was sent)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return [
            checks.Warning(
                "CELERY_BROKER_URL is not set: tasks run inside requests, mail included.",
                hint="Set CELERY_BROKER_URL (amqp://… or redis://…) and run a Celery worker and beat.",
                id="portal.W001",
            )
        ]
    return []
