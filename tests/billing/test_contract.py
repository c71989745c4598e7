"""The committed billing contracts are valid OpenAPI 3, match the code, and say what they should:
an operation id, examples, every problem, and a required Idempotency-Key on every write."""

import pytest
from django.core.management import call_command

import contracts
from contracts.diff import breaking_changes
from contracts.generate import documents
from contracts.validation import operations, validate_document

VERSIONS = ["v1", "v2"]
WRITES = {"post", "put", "patch", "delete"}


@pytest.mark.parametrize("version", VERSIONS)
def test_committed_contract_is_valid_openapi_3(version):
    document = contracts.load("billing", version)

    validate_document(document)
    assert document["openapi"].startswith("3.")
    assert document["info"]["version"] == version
    assert document["info"]["x-service"] == "billing"


@pytest.mark.parametrize("version", VERSIONS)
def test_committed_contract_matches_the_code(version):
    committed = contracts.contract_path("billing", version).read_text(encoding="utf-8")

    assert documents("billing")[version] == committed


def test_check_passes_on_the_committed_contracts(capsys):
    call_command("contracts", "check", "billing")

    out = capsys.readouterr().out
    assert "billing v1: matches the code" in out
    assert "billing v2: matches the code" in out


def test_the_operations_of_each_version():
    found = {
        version: {
            op.operation_id: (op.method, op.path)
            for op in operations(contracts.load("billing", version)).values()
        }
        for version in VERSIONS
    }

    assert found["v1"] == {
        "billing_menu": ("get", "/v1/menu"),
        "billing_order_create": ("post", "/v1/orders"),
        "billing_order_retrieve": ("get", "/v1/orders/{order_id}"),
        "billing_order_item_add": ("post", "/v1/orders/{order_id}/items"),
        "billing_payment_create": ("post", "/v1/payments"),
    }
    assert found["v2"] == {
        "billing_menu": ("get", "/v2/menu"),
        "billing_order_create": ("post", "/v2/orders"),
        "billing_order_retrieve": ("get", "/v2/orders/{order_id}"),
        "billing_order_item_add": ("post", "/v2/orders/{order_id}/items"),
        "billing_order_item_remove": ("delete", "/v2/orders/{order_id}/items/{item_id}"),
        "billing_order_submit": ("post", "/v2/orders/{order_id}/submit"),
        "billing_order_bill": ("post", "/v2/orders/{order_id}/bill"),
        "billing_order_pay": ("post", "/v2/orders/{order_id}/payments"),
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_every_operation_has_examples_and_documented_problems(version):
    for op in operations(contracts.load("billing", version)).values():
        responses = op.spec["responses"]
        problems = [code for code in responses if code.startswith(("4", "5"))]
        assert {"400", "405", "406", "500"} <= set(problems), op.operation_id
        for code in problems:
            assert list(responses[code]["content"]) == ["application/problem+json"]
        success = next(code for code in responses if code.startswith("2"))
        if success != "204":
            assert responses[success]["content"]["application/json"].get("examples"), (
                op.operation_id
            )
        if "requestBody" in op.spec:
            assert {"400", "413", "415"} <= set(problems), op.operation_id
            assert op.spec["requestBody"]["content"]["application/json"]["examples"]
        if "{order_id}" in op.path:
            assert "404" in problems, op.operation_id


@pytest.mark.parametrize("version", VERSIONS)
def test_every_write_requires_an_idempotency_key(version):
    for op in operations(contracts.load("billing", version)).values():
        keys = [p for p in op.spec.get("parameters", []) if p["name"] == "Idempotency-Key"]
        if op.method in WRITES:
            assert [(p["in"], p["required"]) for p in keys] == [("header", True)], op.operation_id
            assert {"409", "422"} <= set(op.spec["responses"]), op.operation_id
        else:
            assert keys == [], op.operation_id


@pytest.mark.parametrize("version", VERSIONS)
def test_no_response_returns_more_of_a_card_than_brand_and_last_four(version):
    schemas = contracts.load("billing", version)["components"]["schemas"]
    for name, schema in schemas.items():
        if name.endswith("Request"):
            continue  # what clients send
        properties = schema.get("properties", {})
        assert "cvc" not in properties, name
        if "card" in properties:
            card = properties["card"]
            refs = [option["$ref"] for option in card.get("oneOf", [card]) if "$ref" in option]
            shown = schemas[refs[0].rsplit("/", 1)[-1]] if refs else card
            assert set(shown["properties"]) == {"brand", "last4"}, name


def test_nullable_objects_are_nullable_in_a_way_validators_understand():
    # OpenAPI 3.0 honours `nullable` only next to a `type`: no `allOf` + `nullable` pairs.
    for version in VERSIONS:
        text = contracts.contract_path("billing", version).read_text(encoding="utf-8")
        document = contracts.load("billing", version)
        assert "nullable" in text

        def walk(node, where, version=version):
            if isinstance(node, dict):
                assert not ("allOf" in node and node.get("nullable")), (version, where)
                for key, value in node.items():
                    walk(value, f"{where}/{key}")
            elif isinstance(node, list):
                for index, value in enumerate(node):
                    walk(value, f"{where}/{index}")

        walk(document, "#")


def test_v2_breaks_v1_where_the_lifecycle_changed():
    changes = breaking_changes(contracts.load("billing", "v1"), contracts.load("billing", "v2"))

    assert "billing_payment_create: operation was removed" in changes
    assert "billing_order_item_add request.items: is now required" in changes
    assert "billing_order_retrieve response 200.created: was removed" in changes
