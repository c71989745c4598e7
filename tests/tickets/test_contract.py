"""The committed tickets contracts are valid OpenAPI 3, match the code, and CI notices drift."""

import json
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

import contracts
from contracts.generate import documents
from contracts.validation import operations, validate_document
from tests.helpers import edit, project_copy, run_contracts_check

ROOT = Path(__file__).resolve().parents[2]
CONFLICTING = {"ticket_comment_create", "ticket_status", "ticket_update", "ticket_resolve"}


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_committed_contract_is_valid_openapi_3(version):
    document = contracts.load("tickets", version)

    validate_document(document)
    assert document["openapi"].startswith("3.")
    assert document["info"]["version"] == version
    assert document["info"]["x-service"] == "tickets"


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_committed_contract_matches_the_code(version):
    committed = contracts.contract_path("tickets", version).read_text(encoding="utf-8")

    assert documents("tickets")[version] == committed


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_operation_has_an_id_examples_and_documented_problems(version):
    for op in operations(contracts.load("tickets", version)).values():
        assert op.operation_id.startswith("ticket_")
        responses = op.spec["responses"]
        problems = [code for code in responses if code.startswith(("4", "5"))]
        assert {"400", "405", "406", "500"} <= set(problems), op.operation_id
        for code in problems:
            assert list(responses[code]["content"]) == ["application/problem+json"]
        success = next(code for code in responses if code.startswith("2"))
        assert responses[success]["content"]["application/json"].get("examples"), op.operation_id
        if "requestBody" in op.spec:
            assert {"400", "413", "415"} <= set(problems), op.operation_id
            assert op.spec["requestBody"]["content"]["application/json"]["examples"]
        if "{ticket_id}" in op.path:
            assert "404" in problems, op.operation_id
            example = responses["404"]["content"]["application/problem+json"]["examples"]
            assert "ticket" in str(example), op.operation_id
        if op.operation_id in CONFLICTING:
            assert "409" in problems, op.operation_id
            assert "Idempotency-Key" not in responses["409"]["description"], op.operation_id


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_example_is_valid_by_its_own_contract(contracts, version):
    contract = contracts[version]
    for op in contract.operations.values():
        path = op.path.replace("{ticket_id}", "17")
        body = op.spec.get("requestBody", {}).get("content", {}).get("application/json", {})
        for name, example in body.get("examples", {}).items():
            errors = contract.request_errors(op.method, path, body=example["value"])
            assert errors == [], (op.operation_id, name, errors)
        for status, response in op.spec["responses"].items():
            for media, content in response.get("content", {}).items():
                for name, example in content.get("examples", {}).items():
                    errors = contract.response_errors(
                        op.method,
                        path,
                        status=int(status),
                        body=json.dumps(example["value"]).encode(),
                        content_type=media,
                    )
                    assert errors == [], (op.operation_id, status, name, errors)


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_creates_accept_an_idempotency_key(version):
    create = contracts.load("tickets", version)["paths"][f"/{version}/tickets"]["post"]

    assert [p["name"] for p in create["parameters"] if p["in"] == "header"] == ["Idempotency-Key"]
    assert {"409", "422"} <= set(create["responses"])


def test_a_missing_promotion_is_a_null_the_contract_allows(contracts):
    # drf-spectacular's own rendering of a nullable object refuses null under OpenAPI 3.0.3.
    promotion = contracts["v2"].document["components"]["schemas"]["Ticket"]["properties"][
        "promotion"
    ]
    assert promotion["oneOf"][0] == {"$ref": "#/components/schemas/Promotion"}


def test_check_passes_on_the_committed_contracts(capsys):
    call_command("contracts", "check", "tickets")

    out = capsys.readouterr().out
    assert "tickets v1: matches the code" in out
    assert "tickets v2: matches the code" in out


def test_diff_lists_the_breaking_changes_from_v1_to_v2(capsys):
    with pytest.raises(CommandError):
        call_command("contracts", "diff", "tickets", "v1", "v2", "--fail-on-breaking")

    out = capsys.readouterr().out
    assert "ticket_create request.requester: type changed from string to object" in out
    assert "ticket_retrieve response 200.requester: type changed from string to object" in out
    assert "ticket_resolve request.promote: type changed from boolean to object" in out
    assert "ticket_status: operation was removed" in out
    assert "ticket_comment_list: operation was removed" in out
    assert "ticket_list response 200.results: was removed" in out


@pytest.fixture
def checkout(tmp_path):
    return project_copy(tmp_path / "repo")


def run_check(checkout: Path) -> subprocess.CompletedProcess:
    return run_contracts_check(checkout, "tickets")


def test_check_fails_on_code_that_drifted_from_the_committed_contracts(checkout):
    # One run of CI's check over two edits: v2 gains a response member (compatible, but not
    # published), v1 gains a required request member (breaks every v1 client).
    edit(
        checkout / "services/tickets/api/v2/serializers.py",
        '    answer = serializers.CharField(read_only=True, help_text="Empty until resolved.")\n',
        '    answer = serializers.CharField(read_only=True, help_text="Empty until resolved.")\n'
        "    priority = serializers.IntegerField(read_only=True)\n",
    )
    edit(
        checkout / "services/tickets/api/v1/serializers.py",
        "class TicketCreateSerializer(serializers.Serializer):\n",
        "class TicketCreateSerializer(serializers.Serializer):\n"
        "    priority = serializers.IntegerField()\n",
    )

    result = run_check(checkout)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "tickets v1: the code breaks the published contract" in result.stderr
    assert "ticket_create request.priority: is now required" in result.stderr
    assert "tickets v2: the code differs from the committed contract" in result.stderr
    assert "+        priority:" in result.stderr
