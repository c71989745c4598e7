"""Schemathesis hooks for the fuzzing suite (loaded through ``SCHEMATHESIS_HOOKS``).

Signing: a call straight at a service is signed as the gateway signs it, with the secret the
service was started with (``FUZZ_GATEWAY_SECRET``): the service is fuzzed as it is deployed, its
gateway trust on, rather than in a configuration nobody runs.

What no contract can state, made true of the data before it is sent (each is a false positive of
``positive_data_acceptance`` otherwise, never a way to hide a refusal the contract could declare):

- a pagination ``cursor`` is only valid when the service handed it out: a made-up one is dropped
  from a case that is meant to be valid;
- ``related`` ids must name existing entries other than the one changed, which fuzzing cannot
  know (the stateful phase may delete any of them): a case meant to be valid relates none.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

import schemathesis
from schemathesis.core.parameters import ParameterLocation

from services.kit.gateway_trust import CONSUMER_HEADER, SIGNATURE_HEADER, sign

CONSUMER = "fuzzer-direct"


def _positive(case, location: ParameterLocation) -> bool:
    meta = case._meta
    return meta is None or not meta.is_negative_at(location)


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers if case.headers is not None else {}
    query = case.query
    if isinstance(query, dict) and "cursor" in query and _positive(case, ParameterLocation.QUERY):
        del query["cursor"]

    body = case.body
    related = isinstance(body, dict) and isinstance(body.get("related"), list)
    if related and _positive(case, ParameterLocation.BODY):
        body["related"] = []

    secret = os.environ.get("FUZZ_GATEWAY_SECRET", "")
    if secret:
        # The service checks the path as it decodes it (WSGI's PATH_INFO), so sign that.
        url = case.as_transport_kwargs(base_url="http://127.0.0.1")["url"]
        path = unquote(urlsplit(url).path, errors="surrogateescape")
        headers[CONSUMER_HEADER] = CONSUMER
        headers[SIGNATURE_HEADER] = sign(secret, method=case.method, path=path, consumer=CONSUMER)
    case.headers = headers
