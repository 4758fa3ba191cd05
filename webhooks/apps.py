from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from audit import services as audit_services

        from . import outbox

        # Every audited change of a workspace also becomes an event, in the same transaction.
        audit_services.register_writer(outbox.write_events)
