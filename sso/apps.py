from django.apps import AppConfig


class SSOConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        from accounts.signals import sign_in_realm

        from .discovery import send_to_identity_provider

        # An address at a domain bound to an enabled connection signs in at its identity provider.
        sign_in_realm.connect(send_to_identity_provider, dispatch_uid="sso.realm_discovery")
