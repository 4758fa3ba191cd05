"""People. The e-mail address is the identity, stored in its canonical form (``accounts.addresses``)
and unique whatever its letter case."""

import zoneinfo
from functools import cache

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from .addresses import normalize_email  # the one canonical form of an address

__all__ = ["ThrottleHit", "User", "UserManager", "normalize_email", "time_zone_names", "validate_time_zone"]


@cache
def time_zone_names() -> tuple[str, ...]:
    """The IANA zones a person may choose, sorted (read once: the list walks the tz database)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def validate_time_zone(value: str) -> None:
    """Only a name of the tz database: nothing else ever reaches ``ZoneInfo`` (a path-like or
    overlong value would make it read files or fail on every page)."""
    if value and value not in time_zone_names():
        raise ValidationError("Choose a time zone from the list.", code="invalid_choice")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email=normalize_email(email))

    def _create(self, email, password, **fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        fields.setdefault("email_verified_at", timezone.now())
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("e-mail address", max_length=254)
    full_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False, help_text="May sign in to the admin.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # The zone pages show times in; empty: the workspace's on its pages, UTC elsewhere.
    time_zone = models.CharField("time zone", max_length=64, blank=True, validators=[validate_time_zone])

    # Notification settings: every person chooses their own, whatever their role (seed 004). Each
    # governs mail the portal really sends (workspaces.notices); a setting nothing reads is not kept.
    notify_workspace_changes = models.BooleanField(
        "changes to my membership",
        default=True,
        help_text="My role changed, I was removed from a workspace, my request to join was answered.",
    )
    notify_member_requests = models.BooleanField(
        "people joining workspaces where I invite",
        default=True,
        help_text="Someone asks to join, or accepts an invitation I sent.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")]
        # The people page's sorts by name, by address and by last sign-in; the member pickers' list by
        # address (the unique constraint's index is on LOWER(email), which no such order can use).
        # The search ("contains", any case) has trigram indexes on PostgreSQL, made by migration 0005
        # (SQLite has no such index).
        indexes = [
            models.Index(fields=["full_name", "email"], name="user_name_sort"),
            models.Index(fields=["email"], name="user_email_sort"),
            models.Index(fields=["last_login"], name="user_last_login"),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)

    def save(self, *args, **kwargs):
        # Whatever the door (a service, the admin, a factory, the shell), one spelling is stored.
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class ThrottleHit(models.Model):
    """One request counted by a throttle (sign-up, password reset): see ``accounts.throttle``.

    Rows, not a per-process cache, so that every worker process counts the same requests. ``key`` is
    a keyed digest of the address or client address, never the value itself.
    """

    bucket = models.CharField(max_length=40)
    key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["bucket", "key", "created_at"], name="throttle_hit_count_idx"),
            models.Index(fields=["created_at"], name="throttle_hit_age_idx"),
        ]

    def __str__(self):
        return f"{self.bucket} at {self.created_at:%Y-%m-%d %H:%M:%S}"


class EmailChange(models.Model):
    """A person's request to change their own address, waiting for its link to be followed.

    The link's token is 256 random bits; only its SHA-256 is stored, so the link (and the new
    address) never appear in a URL anyone else can read back from the database. A request works
    once, until ``expires_at``; a newer request of the same person replaces it.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_changes")
    new_email = models.EmailField(max_length=254)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Address change of account {self.user_id}"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at
