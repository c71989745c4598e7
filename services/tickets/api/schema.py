"""Contract generation details of the tickets service."""


def _nullable_object(node):
    """drf-spectacular publishes a nullable nested serializer as ``allOf: [$ref]`` with
    ``nullable: true`` beside it. OpenAPI 3.0.3 gives ``nullable`` meaning only next to a
    ``type``, so validators (openapi-core, hence the gateway and our tests) refuse ``null`` there;
    ``oneOf`` the object or a typed null says what the code does."""
    if isinstance(node, list):
        return [_nullable_object(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_object(value) for key, value in node.items()}
    if node.get("nullable") is True and len(node.get("allOf", ())) == 1 and "type" not in node:
        rest = {key: value for key, value in node.items() if key not in ("allOf", "nullable")}
        return {
            "oneOf": [node["allOf"][0], {"type": "object", "nullable": True, "enum": [None]}],
            **rest,
        }
    return node


def nullable_objects(result, generator, request, public):
    """A ``POSTPROCESSING_HOOKS`` entry: see :func:`_nullable_object`."""
    return _nullable_object(result)
