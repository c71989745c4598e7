"""The domain's ways to fail: what services, selectors and models raise.

Plain Python exceptions with no HTTP in them; the kit's exception handler
(:func:`services.kit.problems.exception_handler`) is the one place that turns each into a problem
response: :class:`NotFound` a 404, :class:`Conflict` a 409, :class:`Invalid` a 400 with one entry
per offending field, :class:`Unavailable` a 503.

They stay what Django code already catches: ``NotFound.of(Order, ...)`` is also an
``Order.DoesNotExist``, and an :class:`Invalid` is a Django ``ValidationError`` (what
``full_clean`` raises) with its ``message_dict``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError


class DomainError(Exception):
    """Something a caller asked for that the domain refuses; ``detail`` says why, to the caller."""

    default_detail = "The request was refused."

    def __init__(self, detail: str | None = None):
        self.detail = detail or self.default_detail
        Exception.__init__(self, self.detail)


class NotFound(DomainError):
    """What the call is about does not exist."""

    default_detail = "Not found."

    @classmethod
    def of(cls, model: type, detail: str) -> NotFound:
        """A NotFound that is also ``model.DoesNotExist``, for code that catches Django's."""
        return _not_found_class(model)(detail)


@functools.cache
def _not_found_class(model: type) -> type[NotFound]:
    return type(f"{model.__name__}NotFound", (NotFound, model.DoesNotExist), {})


class Conflict(DomainError):
    """The current state does not allow this (a closed ticket, a billed order, ...)."""

    default_detail = "The current state does not allow this."


class Unavailable(DomainError):
    """Something this call needs is out of reach for now; ``retry_after``: seconds, if known."""

    default_detail = "A service this call needs is unavailable; retry shortly."

    def __init__(self, detail: str | None = None, *, retry_after: int | None = None):
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass(frozen=True)
class FieldError:
    """One refused input value. ``path`` names it as the service's keyword arguments do (the API
    versions' bodies use the same names): ``("discount_code",)``, ``("items", 1, "item")``."""

    path: tuple[str | int, ...]
    message: str
    code: str = "invalid"


class Invalid(DomainError, ValidationError):
    """Input the domain refuses, one :class:`FieldError` per offending value.

    As a Django ``ValidationError`` its ``message_dict`` is keyed by each value's own field name
    (the last name in its path), as a model's ``full_clean`` would say it.
    """

    default_detail = "The request is not valid."

    def __init__(self, errors: Iterable[FieldError], detail: str | None = None):
        self.errors: Sequence[FieldError] = tuple(errors)
        by_field: dict[str, list[ValidationError]] = {}
        for error in self.errors:
            names = [part for part in error.path if isinstance(part, str)]
            field = names[-1] if names else "__all__"
            by_field.setdefault(field, []).append(ValidationError(error.message, code=error.code))
        ValidationError.__init__(self, by_field)
        self.detail = detail or self.default_detail

    @classmethod
    def field(cls, *path: str | int, message: str, code: str = "invalid") -> Invalid:
        """One refused value: ``Invalid.field("discount_code", message="...")``."""
        return cls([FieldError(path, message, code)])

    def __str__(self) -> str:  # Django's would print the message dict's repr
        return "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in self.errors)
