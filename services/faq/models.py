from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models

_validate_url = URLValidator(schemes=["http", "https"])


class Entry(models.Model):
    """One question and its answer, wherever it came from. Knows nothing of API versions."""

    class SourceKind(models.TextChoices):
        TICKET = "ticket", "Support ticket"
        FORUM = "forum", "Community forum"
        EMAIL = "email", "Email"
        CHAT = "chat", "Chat"
        DOCS = "docs", "Documentation"
        OTHER = "other", "Other"

    question = models.CharField(max_length=500)
    answer = models.TextField(blank=True, default="")
    source_kind = models.CharField(
        max_length=16, choices=SourceKind.choices, default=SourceKind.OTHER
    )
    source_ref = models.CharField(max_length=500, blank=True, default="")
    source_url = models.URLField(max_length=500, blank=True, default="")
    related = models.ManyToManyField("self", blank=True, symmetrical=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "entries"
        indexes = [
            models.Index(fields=["source_kind", "source_ref"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        return self.question[:60]

    @property
    def answered(self) -> bool:
        return bool(self.answer.strip())

    @property
    def source(self) -> "Source":
        return Source(
            kind=self.source_kind, ref=self.source_ref or None, url=self.source_url or None
        )

    @property
    def related_ids(self) -> list[int]:
        return sorted(other.pk for other in self.related.all())


@dataclass(frozen=True)
class Source:
    """Where an entry came from: a kind, and a reference and/or a link within it."""

    kind: str = Entry.SourceKind.OTHER
    ref: str | None = None
    url: str | None = None

    @classmethod
    def from_text(cls, text: str) -> "Source":
        """v1's single free-text source: a link when it is a valid one, else a reference."""
        text = text.strip()
        if text.lower().startswith(("http://", "https://")):
            try:
                _validate_url(text)
            except ValidationError:
                return cls(ref=text)  # v1's source is free text: keep it, just not as a link
            return cls(url=text)
        return cls(ref=text or None)

    def as_text(self) -> str:
        return self.ref or self.url or ("" if self.kind == Entry.SourceKind.OTHER else self.kind)
