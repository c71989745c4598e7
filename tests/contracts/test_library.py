"""The contracts library: loading, judging traffic, and finding breaking changes (no Django)."""

import copy

import pytest

import contracts
from contracts.diff import breaking_changes
from contracts.validation import Contract


def test_published_lists_every_service_and_its_versions_in_order():
    assert contracts.published()["faq"] == ["v1", "v2"]


def test_versions_sort_numerically(tmp_path):
    for name in ("v10", "v2", "v1", "notes"):
        (tmp_path / "svc").mkdir(exist_ok=True)
        (tmp_path / "svc" / f"{name}.yaml").write_text("openapi: 3.0.3\n")

    assert contracts.published(tmp_path) == {"svc": ["v1", "v2", "v10"]}


def test_loading_an_unknown_contract_says_which():
    with pytest.raises(contracts.UnknownContract, match="faq v9"):
        contracts.load("faq", "v9")


@pytest.fixture(scope="module")
def faq_v2():
    return Contract.published("faq", "v2")


def test_operations_are_found_by_id(faq_v2):
    create = faq_v2.operation("faq_create")

    assert (create.method, create.path) == ("post", "/v2/faqs")
    with pytest.raises(contracts.UnknownContract, match="faq_answer"):
        faq_v2.operation("faq_answer")


def test_a_conforming_request_has_no_errors(faq_v2):
    body = {"question": "Q?", "source": {"kind": "ticket", "ref": "1"}, "related": [1]}

    assert faq_v2.request_errors("post", "/v2/faqs", body=body) == []


def test_a_nonconforming_request_says_what_is_wrong(faq_v2):
    errors = faq_v2.request_errors("post", "/v2/faqs", body={"question": 7})

    assert len(errors) == 1
    assert "question: 7 is not of type 'string'" in errors[0]
    assert "'source' is a required property" in errors[0]


def test_query_parameters_are_checked(faq_v2):
    assert faq_v2.request_errors("get", "/v2/faqs", query={"source_kind": "forum"}) == []
    assert faq_v2.request_errors("get", "/v2/faqs", query={"source_kind": "fax"}) != []


def test_responses_are_checked_including_problem_documents(faq_v2):
    problem = b'{"type": "about:blank", "title": "Not Found", "status": 404}'
    wrong = b'{"title": "Not Found"}'

    def errors(body):
        return faq_v2.response_errors(
            "get", "/v2/faqs/1", status=404, body=body, content_type="application/problem+json"
        )

    assert errors(problem) == []
    assert errors(wrong) != []


# --- breaking changes -------------------------------------------------------------------------

BASE = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "v1"},
    "paths": {
        "/v1/things/{id}": {
            "get": {
                "operationId": "thing_get",
                "parameters": [
                    {"in": "path", "name": "id", "required": True, "schema": {"type": "integer"}},
                    {"in": "query", "name": "fields", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}
                        },
                    }
                },
            },
            "put": {
                "operationId": "thing_put",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string", "maxLength": 100},
                                    "size": {"type": "string", "enum": ["s", "m", "l"]},
                                    "note": {"type": "string", "nullable": True},
                                },
                            }
                        }
                    }
                },
                "responses": {"204": {"description": ""}},
            },
        }
    },
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "required": ["id", "name", "state"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "state": {"type": "string", "enum": ["new", "done"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                },
            }
        }
    },
}


def changed(mutate):
    new = copy.deepcopy(BASE)
    mutate(new)
    return breaking_changes(BASE, new)


def test_identical_documents_have_no_breaking_changes():
    assert breaking_changes(BASE, copy.deepcopy(BASE)) == []


def test_additions_a_client_can_ignore_are_not_breaking():
    def add(doc):
        doc["components"]["schemas"]["Thing"]["properties"]["colour"] = {"type": "string"}
        put = doc["paths"]["/v1/things/{id}"]["put"]["requestBody"]["content"]
        put["application/json"]["schema"]["properties"]["extra"] = {"type": "string"}
        put["application/json"]["schema"]["properties"]["size"]["enum"].append("xl")
        doc["paths"]["/v1/things"] = {"get": {"operationId": "thing_list", "responses": {}}}

    assert changed(add) == []


def thing(doc):
    return doc["components"]["schemas"]["Thing"]


def put_body(doc):
    return doc["paths"]["/v1/things/{id}"]["put"]["requestBody"]["content"]["application/json"][
        "schema"
    ]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["paths"]["/v1/things/{id}"].pop("put"),
            "thing_put: operation was removed",
        ),
        (
            lambda d: thing(d)["properties"].pop("tags"),
            "thing_get response 200.tags: was removed",
        ),
        (
            lambda d: thing(d)["required"].remove("name"),
            "thing_get response 200.name: is no longer always present",
        ),
        (
            lambda d: thing(d)["properties"]["state"]["enum"].append("lost"),
            "thing_get response 200.state: may now return lost",
        ),
        (
            lambda d: thing(d)["properties"]["name"].update(nullable=True),
            "thing_get response 200.name: may now be null",
        ),
        (
            lambda d: thing(d)["properties"]["tags"]["items"].update(type="integer"),
            "thing_get response 200.tags[]: type changed from string to integer",
        ),
        (
            lambda d: put_body(d)["required"].append("size"),
            "thing_put request.size: is now required",
        ),
        (
            lambda d: put_body(d)["properties"]["name"].update(maxLength=50),
            "thing_put request.name: maxLength lowered to 50",
        ),
        (
            lambda d: put_body(d)["properties"]["size"]["enum"].remove("l"),
            "thing_put request.size: no longer accepts l",
        ),
        (
            lambda d: put_body(d)["properties"]["note"].pop("nullable"),
            "thing_put request.note: no longer accepts null",
        ),
        (
            lambda d: put_body(d)["properties"].pop("note"),
            "thing_put request.note: is no longer accepted",
        ),
        (
            lambda d: d["paths"]["/v1/things/{id}"]["get"]["parameters"][1].update(required=True),
            "thing_get query parameter fields: is now required",
        ),
        (
            lambda d: d["paths"]["/v1/things/{id}"]["get"]["parameters"].pop(1),
            "thing_get query parameter fields: was removed",
        ),
        (
            lambda d: d["paths"].update({"/v1/items/{id}": d["paths"].pop("/v1/things/{id}")}),
            "thing_get: path changed from /v1/things/{id} to /v1/items/{id}",
        ),
    ],
)
def test_each_kind_of_breaking_change_is_reported(mutate, expected):
    assert expected in changed(mutate)


def test_a_new_version_prefix_alone_is_not_a_change():
    def bump(doc):
        doc["paths"] = {"/v2/things/{id}": doc["paths"].pop("/v1/things/{id}")}

    assert changed(bump) == []


def test_the_published_faq_versions_differ_incompatibly():
    changes = breaking_changes(contracts.load("faq", "v1"), contracts.load("faq", "v2"))

    assert "faq_create request.source: type changed from string to object" in changes
    assert "faq_retrieve response 200.created: was removed" in changes
    assert "faq_retrieve response 200.source: type changed from string to object" in changes


def test_a_referenced_component_wrapped_in_all_of_is_compared_by_its_content():
    def wrap(doc):
        schemas = doc["components"]["schemas"]
        schemas["State"] = {"type": "object", "properties": {"code": {"type": "string"}}}
        thing(doc)["properties"]["state"] = {
            "allOf": [{"$ref": "#/components/schemas/State"}],
            "readOnly": True,
        }

    assert "thing_get response 200.state: type changed from string to object" in changed(wrap)
