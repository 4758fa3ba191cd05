from django.apps import AppConfig


class BackgroundConfig(AppConfig):
    name = "background"
    verbose_name = "Background work"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from celery import signals

        from . import services

        # Every task that gives up (its last retry failed, or it failed without retries) is kept.
        signals.task_failure.connect(services.record_task_failure, dispatch_uid="background.task_failure")
