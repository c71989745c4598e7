"""Contracts from code: drf-spectacular over each published version's own URL module.

Needs the Django settings of the service being generated (``SERVICE=<name>``).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer

from contracts.lifecycle import lifecycle_of


def document(service: str, version: str) -> dict:
    patterns = [path(f"{version}/", include(f"services.{service}.api.{version}.urls"))]
    generator = SchemaGenerator(patterns=patterns, api_version=version)
    schema = generator.get_schema(request=None, public=True)
    schema["info"]["x-service"] = service
    _mark_lifecycle(schema, lifecycle_of(service, version))
    return schema


def _mark_lifecycle(schema: dict, lifecycle) -> None:
    """A deprecated version says so in its contract: every operation, and the dates in ``info``."""
    if not lifecycle.announced:
        return
    declared = lifecycle.as_dict()
    del declared["state"]  # depends on today; the contract must not
    schema["info"]["x-lifecycle"] = declared
    for item in schema["paths"].values():
        for operation in item.values():
            operation["deprecated"] = True


def render(schema: dict) -> str:
    return OpenApiYamlRenderer().render(schema, renderer_context={}).decode("utf-8")


def documents(service: str) -> dict[str, str]:
    """``{version: yaml text}`` for every version the running service publishes."""
    if service != settings.SERVICE_NAME:
        raise RuntimeError(f"Generating {service!r} needs SERVICE={service}")
    return {version: render(document(service, version)) for version in settings.API_VERSIONS}
