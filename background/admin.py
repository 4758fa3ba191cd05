from django.contrib import admin

from kernel.admin import ReadOnlyAdmin

from .models import FailedTask


@admin.register(FailedTask)
class FailedTaskAdmin(ReadOnlyAdmin):
    """Mail that could not be delivered and periodic jobs that failed, newest first."""

    list_display = ("failed_at", "task_name", "exception", "summary", "retries")
    list_filter = ("task_name", "exception")
    search_fields = ("task_name", "task_id", "message")
    date_hierarchy = "failed_at"
    readonly_fields = ("task_name", "task_id", "failed_at", "retries", "exception", "message", "summary")
