from django.core.validators import RegexValidator
from django.db import models

CONSUMER_NAME = RegexValidator(
    r"^[a-z0-9][a-z0-9._-]{0,63}$",
    "Lowercase letters, digits, '.', '_' and '-'; at most 64, starting with a letter or digit.",
)

# Upper bounds (milliseconds) of the latency histogram's buckets; the last one is open-ended.
LATENCY_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


class Consumer(models.Model):
    """Whoever calls through the gateway: a team's app, identified by its API key."""

    name = models.CharField(max_length=64, unique=True, validators=[CONSUMER_NAME])
    owner = models.CharField(max_length=100, help_text="The team that owns the calling app.")
    contact = models.EmailField(help_text="Whom to tell about deprecations.")
    key_prefix = models.CharField(max_length=12, help_text="Shown to tell keys apart.")
    # SHA-256 of the key. Keys are 256 random bits, so a fast hash is as good as a slow one and
    # keeps the per-request lookup cheap; the key itself is shown once and never stored.
    key_hash = models.CharField(max_length=64, unique=True)
    rate_limit_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Overrides the gateway's default."
    )
    is_platform = models.BooleanField(
        default=False, help_text="May read usage data (the platform team's own tools)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class KeyChange(models.Model):
    """One row: a counter bumped whenever a consumer is created, changed or deleted (their keys
    above all). Every gateway process polls it (``gateway.auth``) and drops the key answers it
    holds when it moves, so a rotation or revocation reaches every worker without a query per
    call."""

    serial = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"key change {self.serial}"


class UsageRollup(models.Model):
    """Calls in one hour for one (service, version, operation, method, consumer, status class)."""

    hour = models.DateTimeField()
    service = models.CharField(max_length=32)
    version = models.CharField(max_length=16)
    operation = models.CharField(max_length=200, help_text="The contract's path template.")
    method = models.CharField(max_length=10)
    consumer = models.CharField(max_length=64)
    status_class = models.CharField(max_length=3, help_text="2xx, 3xx, 4xx or 5xx.")
    count = models.PositiveBigIntegerField(default=0)
    latency_ms_sum = models.FloatField(default=0)
    latency_buckets = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "hour",
                    "service",
                    "version",
                    "operation",
                    "method",
                    "consumer",
                    "status_class",
                ],
                name="usage_rollup_key",
            )
        ]
        indexes = [
            models.Index(fields=["service", "version", "hour"]),
            models.Index(fields=["consumer", "hour"]),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}h {self.service} {self.version} {self.consumer}"


class UsageDaily(models.Model):
    """The same rollups by day, kept alongside the hourly ones for the dashboard: a year of
    history is then a few hundred thousand rows, not millions, and every page reads only these."""

    day = models.DateField()
    service = models.CharField(max_length=32)
    version = models.CharField(max_length=16)
    operation = models.CharField(max_length=200)
    method = models.CharField(max_length=10)
    consumer = models.CharField(max_length=64)
    status_class = models.CharField(max_length=3)
    count = models.PositiveBigIntegerField(default=0)
    latency_ms_sum = models.FloatField(default=0)
    latency_buckets = models.JSONField(default=list)
    last_seen = models.DateTimeField(help_text="The latest call counted in this row.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "day",
                    "service",
                    "version",
                    "operation",
                    "method",
                    "consumer",
                    "status_class",
                ],
                name="usage_daily_key",
            )
        ]
        indexes = [
            models.Index(fields=["service", "version", "day"]),
            models.Index(fields=["service", "version", "consumer", "day"]),
            models.Index(fields=["day"]),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.service} {self.version} {self.consumer}"


class UsageCoverage(models.Model):
    """Since when this gateway's usage history is complete: written by the first flush of a fresh
    install (or by demo data, which says so). A version is never "safe to sunset" on a quiet
    window this history does not cover: no calls recorded is not the same as no calls made."""

    LIVE, DEMO = "live", "demo"

    since = models.DateTimeField(help_text="Every call through the gateway since then is counted.")
    source = models.CharField(
        max_length=8, choices=[(LIVE, "counted by the gateway"), (DEMO, "demo data")], default=LIVE
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["since"]

    def __str__(self) -> str:
        return f"usage recorded since {self.since:%Y-%m-%d %H:%M} ({self.source})"


class UnauthenticatedDaily(models.Model):
    """Calls refused for a missing or unknown key, by day, version and client address. Kept apart
    from consumers' usage: a scanner must not keep a version alive. The address is stored as a
    keyed hash, so the table can count addresses without holding any."""

    day = models.DateField()
    service = models.CharField(max_length=32)
    version = models.CharField(max_length=16)
    client = models.CharField(max_length=32, help_text="Keyed hash of the client address.")
    count = models.PositiveBigIntegerField(default=0)
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service", "version", "client"], name="unauthenticated_daily_key"
            )
        ]
        indexes = [models.Index(fields=["service", "version", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.service} {self.version} {self.count} unauthenticated"


class Notice(models.Model):
    """A deprecation notice sent to a consumer still calling an old version."""

    consumer = models.CharField(max_length=64)
    service = models.CharField(max_length=32)
    version = models.CharField(max_length=16)
    sent_at = models.DateTimeField()
    recipients = models.CharField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["service", "version", "consumer", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.sent_at:%Y-%m-%d} {self.consumer}: {self.service} {self.version}"
