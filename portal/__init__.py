# The Celery application is loaded with Django, so that tasks queued by the portal use it.
from .celery import app as celery_app

__all__ = ("celery_app",)
