"""The committed contracts are valid OpenAPI 3, match the code, and CI notices when they drift."""

import subprocess
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

import contracts
from contracts.generate import documents
from contracts.validation import operations, validate_document
from tests.helpers import edit, project_copy, run_contracts_check

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_committed_contract_is_valid_openapi_3(version):
    document = contracts.load("faq", version)

    validate_document(document)
    assert document["openapi"].startswith("3.")
    assert document["info"]["version"] == version


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_committed_contract_matches_the_code(version):
    committed = contracts.contract_path("faq", version).read_text(encoding="utf-8")

    assert documents("faq")[version] == committed


def test_every_operation_has_an_id_examples_and_documented_problems():
    for version in ("v1", "v2"):
        for op in operations(contracts.load("faq", version)).values():
            assert op.operation_id.startswith("faq_")
            responses = op.spec["responses"]
            problems = [code for code in responses if code.startswith(("4", "5"))]
            assert {"405", "406", "500"} <= set(problems), (version, op.operation_id)
            for code in problems:
                assert list(responses[code]["content"]) == ["application/problem+json"]
            success = next(code for code in responses if code.startswith("2"))
            if success != "204":
                assert responses[success]["content"]["application/json"].get("examples"), (
                    version,
                    op.operation_id,
                )
            if "requestBody" in op.spec:
                assert {"400", "413", "415"} <= set(problems)
                assert op.spec["requestBody"]["content"]["application/json"]["examples"]


def test_check_passes_on_the_committed_contracts(capsys):
    call_command("contracts", "check", "faq")

    assert "faq v1: matches the code" in capsys.readouterr().out


@pytest.fixture
def checkout(tmp_path):
    return project_copy(tmp_path / "repo")


def run_check(checkout: Path) -> subprocess.CompletedProcess:
    return run_contracts_check(checkout)


def test_check_fails_when_a_serializer_changed_without_regenerating(checkout):
    # An extra response member is a compatible change, but an unpublished one all the same.
    edit(
        checkout / "services/faq/api/v2/serializers.py",
        "    answered = serializers.BooleanField(read_only=True)\n",
        "    answered = serializers.BooleanField(read_only=True)\n"
        "    views = serializers.IntegerField(read_only=True)\n",
    )

    result = run_check(checkout)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "faq v1: matches the code" in result.stdout
    assert "faq v2: the code differs from the committed contract" in result.stderr
    assert "+        views:" in result.stderr


def test_check_calls_an_incompatible_change_breaking(checkout):
    edit(
        checkout / "services/faq/api/v1/serializers.py",
        "class EntryCreateSerializer(serializers.Serializer):\n",
        "class EntryCreateSerializer(serializers.Serializer):\n"
        "    priority = serializers.IntegerField()\n",
    )

    result = run_check(checkout)

    assert result.returncode == 1
    assert "faq v1: the code breaks the published contract" in result.stderr
    assert "faq_create request.priority: is now required" in result.stderr


def test_check_fails_when_a_contract_was_edited_by_hand(checkout):
    v2 = checkout / "contracts" / "faq" / "v2.yaml"
    document = yaml.safe_load(v2.read_text())
    document["info"]["title"] = "Edited by hand"
    v2.write_text(yaml.safe_dump(document))

    result = run_check(checkout)

    assert result.returncode == 1
    assert "faq v2: the code differs from the committed contract" in result.stderr


def test_check_passes_on_an_unchanged_checkout(checkout):
    result = run_check(checkout)

    assert result.returncode == 0, result.stderr
    assert "faq v1: matches the code" in result.stdout


def test_diff_lists_the_breaking_changes_from_v1_to_v2(capsys):
    with pytest.raises(CommandError):
        call_command("contracts", "diff", "faq", "v1", "v2", "--fail-on-breaking")

    out = capsys.readouterr().out
    assert "faq_create request.source: type changed from string to object" in out
    assert "faq_answer: operation was removed" in out
    assert "faq_list response 200.results: was removed" in out
