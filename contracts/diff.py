"""Breaking changes between two OpenAPI documents, from a consumer's point of view.

A change is breaking when a client written against ``old`` can fail against ``new``: an operation
or success response it uses is gone; it must now send something it did not (a new required
parameter or member, a narrower type, fewer enum values, a shorter maximum); or it may now receive
something it was not promised (a member removed or no longer required, a new type, a new enum value,
null where there was none). Operations are matched by operation id, so ``v1`` and ``v2`` documents
(whose paths differ by prefix) compare operation by operation.
"""

from __future__ import annotations

import re
from typing import Any

from contracts.validation import operations

REQUEST, RESPONSE = "request", "response"


def _resolve(document: dict, schema: Any, depth: int = 0) -> Any:
    """Follow ``$ref``s, and flatten the one-item ``allOf`` that wraps a referenced component."""
    if not isinstance(schema, dict) or depth > 32:
        return schema
    if "$ref" in schema:
        node: Any = document
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return _resolve(document, node, depth + 1)
    if len(schema.get("allOf", ())) == 1:
        rest = {key: value for key, value in schema.items() if key != "allOf"}
        return {**_resolve(document, schema["allOf"][0], depth + 1), **rest}
    return schema


class _Differ:
    def __init__(self, old: dict, new: dict):
        self.old, self.new = old, new
        self.changes: list[str] = []

    def report(self, where: str, what: str) -> None:
        self.changes.append(f"{where}: {what}")

    def schema(self, where: str, old: Any, new: Any, direction: str, depth: int = 0) -> None:
        old = _resolve(self.old, old)
        new = _resolve(self.new, new)
        if not isinstance(old, dict) or not isinstance(new, dict) or depth > 24:
            return
        old_type, new_type = old.get("type"), new.get("type")
        widened = direction == REQUEST and (old_type, new_type) == ("integer", "number")
        if old_type and new_type and old_type != new_type and not widened:
            self.report(where, f"type changed from {old_type} to {new_type}")
            return
        if old.get("nullable") and not new.get("nullable") and direction == REQUEST:
            self.report(where, "no longer accepts null")
        if new.get("nullable") and not old.get("nullable") and direction == RESPONSE:
            self.report(where, "may now be null")
        self._enum(where, old, new, direction)
        self._bounds(where, old, new, direction)
        if old_type == "array" or "items" in old:
            self.schema(f"{where}[]", old.get("items"), new.get("items"), direction, depth + 1)
        self._properties(where, old, new, direction, depth)

    def _enum(self, where: str, old: dict, new: dict, direction: str) -> None:
        old_enum, new_enum = old.get("enum"), new.get("enum")
        if direction == REQUEST:
            if new_enum is not None and (old_enum is None or set(old_enum) - set(new_enum)):
                lost = sorted(map(str, set(old_enum or []) - set(new_enum))) or ["any value"]
                self.report(where, f"no longer accepts {', '.join(lost)}")
        elif old_enum is not None and (new_enum is None or set(new_enum) - set(old_enum)):
            gained = sorted(map(str, set(new_enum or []) - set(old_enum))) or ["any value"]
            self.report(where, f"may now return {', '.join(gained)}")

    def _bounds(self, where: str, old: dict, new: dict, direction: str) -> None:
        if direction != REQUEST:
            return
        for key, tighter in (("maxLength", min), ("maximum", min), ("maxItems", min)):
            if key in new and (key not in old or tighter(old[key], new[key]) != old[key]):
                self.report(where, f"{key} lowered to {new[key]}")
        for key, tighter in (("minLength", max), ("minimum", max), ("minItems", max)):
            if key in new and (key not in old or tighter(old[key], new[key]) != old[key]):
                self.report(where, f"{key} raised to {new[key]}")

    def _properties(self, where: str, old: dict, new: dict, direction: str, depth: int) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        if direction == REQUEST:
            for name in sorted(new_required - old_required):
                self.report(f"{where}.{name}", "is now required")
            for name in sorted(set(old_props) - set(new_props)):
                self.report(f"{where}.{name}", "is no longer accepted")
        else:
            for name in sorted(set(old_props) - set(new_props)):
                self.report(f"{where}.{name}", "was removed")
            for name in sorted((old_required - new_required) & set(new_props)):
                self.report(f"{where}.{name}", "is no longer always present")
        for name in sorted(set(old_props) & set(new_props)):
            self.schema(f"{where}.{name}", old_props[name], new_props[name], direction, depth + 1)

    def operation(self, op_id: str, old_op: dict, new_op: dict) -> None:
        self._parameters(op_id, old_op, new_op)
        self._request_body(op_id, old_op, new_op)
        self._responses(op_id, old_op, new_op)

    def _parameters(self, op_id: str, old_op: dict, new_op: dict) -> None:
        def by_key(document, op):
            params = (_resolve(document, p) for p in op.get("parameters", []))
            return {(p["in"], p["name"]): p for p in params}

        old_params, new_params = by_key(self.old, old_op), by_key(self.new, new_op)
        for key in sorted(set(new_params) - set(old_params)):
            if new_params[key].get("required"):
                self.report(f"{op_id} {key[0]} parameter {key[1]}", "is new and required")
        for key in sorted(set(old_params) - set(new_params)):
            self.report(f"{op_id} {key[0]} parameter {key[1]}", "was removed")
        for key in sorted(set(old_params) & set(new_params)):
            where = f"{op_id} {key[0]} parameter {key[1]}"
            if new_params[key].get("required") and not old_params[key].get("required"):
                self.report(where, "is now required")
            self.schema(
                where, old_params[key].get("schema"), new_params[key].get("schema"), REQUEST
            )

    def _request_body(self, op_id: str, old_op: dict, new_op: dict) -> None:
        old_body = _resolve(self.old, old_op.get("requestBody")) or {}
        new_body = _resolve(self.new, new_op.get("requestBody")) or {}
        if new_body.get("required") and not old_body.get("required"):
            self.report(f"{op_id} request body", "is now required")
        old_content, new_content = old_body.get("content", {}), new_body.get("content", {})
        for media in sorted(set(old_content) - set(new_content)):
            self.report(f"{op_id} request body", f"no longer accepts {media}")
        for media in sorted(set(old_content) & set(new_content)):
            self.schema(
                f"{op_id} request",
                old_content[media].get("schema"),
                new_content[media].get("schema"),
                REQUEST,
            )

    def _responses(self, op_id: str, old_op: dict, new_op: dict) -> None:
        old_responses, new_responses = old_op.get("responses", {}), new_op.get("responses", {})
        for code in sorted(old_responses):
            if not str(code).startswith("2"):
                continue
            if code not in new_responses:
                self.report(f"{op_id} response {code}", "was removed")
                continue
            old_content = (_resolve(self.old, old_responses[code]) or {}).get("content", {})
            new_content = (_resolve(self.new, new_responses[code]) or {}).get("content", {})
            for media in sorted(set(old_content) - set(new_content)):
                self.report(f"{op_id} response {code}", f"is no longer {media}")
            for media in sorted(set(old_content) & set(new_content)):
                self.schema(
                    f"{op_id} response {code}",
                    old_content[media].get("schema"),
                    new_content[media].get("schema"),
                    RESPONSE,
                )


def _unversioned(path: str) -> str:
    return re.sub(r"^/v[0-9]+(?=/)", "", path)


def breaking_changes(old: dict, new: dict) -> list[str]:
    """What in ``new`` can break a client of ``old``, one readable line per change."""
    differ = _Differ(old, new)
    old_ops, new_ops = operations(old), operations(new)
    for op_id in sorted(set(old_ops) - set(new_ops)):
        differ.report(op_id, "operation was removed")
    for op_id in sorted(set(old_ops) & set(new_ops)):
        old_op, new_op = old_ops[op_id], new_ops[op_id]
        if _unversioned(old_op.path) != _unversioned(new_op.path):
            differ.report(op_id, f"path changed from {old_op.path} to {new_op.path}")
        if old_op.method != new_op.method:
            differ.report(op_id, f"method changed from {old_op.method} to {new_op.method}")
        differ.operation(op_id, old_op.spec, new_op.spec)
    return differ.changes
