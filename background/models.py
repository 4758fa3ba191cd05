from django.db import models


class FailedTask(models.Model):
    """A background task (a mail, a periodic job) that failed for good, for staff to see in the admin.

    Written by ``services.record_task_failure`` (Celery's task_failure signal) and
    ``kernel.mail`` (a mail that could not even be queued). Never holds a task's arguments: a
    mail's are its text, which may carry sign-in links; ``summary`` says only how many messages
    to how many recipients.
    """

    task_name = models.CharField(max_length=200)
    task_id = models.CharField(max_length=255, blank=True)
    failed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    retries = models.PositiveIntegerField(default=0, help_text="Tries after the first, before it gave up.")
    exception = models.CharField(max_length=200, help_text="The kind of error.")
    message = models.TextField(blank=True, help_text="The error's own words (the mail server's answer, …).")
    summary = models.CharField(max_length=200, blank=True, help_text="What the task held, in counts.")

    class Meta:
        ordering = ["-failed_at", "-pk"]

    def __str__(self):
        return f"{self.task_name} failed: {self.exception}"
