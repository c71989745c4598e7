"""``check --deploy`` reports what drf-spectacular warns of in each published contract, built one
version at a time as it is published (contracts/checks.py)."""

from django.core.checks import run_checks
from drf_spectacular.drainage import error, warn

import contracts.generate


def deploy_messages():
    return [m for m in run_checks(include_deployment_checks=True) if m.id.startswith("contracts.")]


def test_the_published_contracts_build_without_a_warning():
    assert deploy_messages() == []


def test_a_warning_while_building_a_version_is_reported_with_the_version(monkeypatch):
    built = contracts.generate.document

    def document(service, version):
        schema = built(service, version)  # which starts by clearing what was reported so far
        if version == "v2":
            warn("could not resolve the type of EntrySerializer.source")
        return schema

    monkeypatch.setattr(contracts.generate, "document", document)

    [message] = deploy_messages()
    assert message.id == "contracts.W001"
    assert message.msg.startswith("faq v2: ")
    assert "could not resolve the type of EntrySerializer.source" in message.msg


def test_an_error_and_a_failure_are_reported_too(monkeypatch):
    def document(service, version):
        if version == "v1":
            error("no serializer for EntryDetailApi")
            return {}
        raise RuntimeError("broken view")

    monkeypatch.setattr(contracts.generate, "document", document)

    messages = {(m.id, m.msg.split(":")[0]) for m in deploy_messages()}
    assert messages == {("contracts.W002", "faq v1"), ("contracts.E001", "faq v2")}
