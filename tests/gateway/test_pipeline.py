"""gateway/pipeline.py: the hot path's steps, each driven alone on a call, and their order."""

import pytest
from asgiref.sync import async_to_sync

from gateway import pipeline
from gateway.edge import PROXIED, Call
from tests.gateway.conftest import UPSTREAM, asgi_scope
from tests.helpers import PROBLEM

pytestmark = pytest.mark.django_db


def make_call(target: str, headers: dict | None = None, method: str = "GET") -> Call:
    scope = asgi_scope(method, target, headers)
    return Call(scope, PROXIED.match(scope["path"]))


def routed_call(target="/faq/v2/faqs/17", headers=None) -> Call:
    call = make_call(target, headers)
    assert pipeline.route(call) is None
    return call


def test_the_steps_run_in_this_order():
    assert [step.__name__ for step in pipeline.STEPS] == [
        "route",
        "authenticate",
        "lifecycle_gate",
        "limit",
        "validate",
        "serve_cached",
        "call_upstream",
    ]


class TestRoute:
    def test_a_routed_call_learns_its_upstream_path_and_operation(self, routed):
        call = make_call("/faq/v2/faqs/17")

        assert pipeline.route(call) is None
        assert call.route.url == f"{UPSTREAM}/v2/faqs/17"
        assert call.route.operation.operation_id == "faq_retrieve"
        assert call.route.operation.params == {"entry_id": "17"}

    def test_an_unknown_version_is_answered_with_404(self, routed):
        answer = pipeline.route(make_call("/faq/v9/faqs"))

        assert answer.status == 404
        assert answer.header("Content-Type") == PROBLEM


class TestAuthenticate:
    def test_without_a_key_the_answer_is_401_with_a_challenge(self, routed):
        answer = async_to_sync(pipeline.authenticate)(routed_call())

        assert answer.status == 401
        assert answer.header("WWW-Authenticate") == 'Bearer realm="switchyard"'

    def test_a_known_key_names_the_consumer(self, routed, key):
        call = routed_call(headers={"Authorization": f"Bearer {key}"})

        assert async_to_sync(pipeline.authenticate)(call) is None
        assert call.name == "alice"

    def test_an_unknown_key_is_401(self, routed, key):
        call = routed_call(headers={"Authorization": "Bearer sy_not-a-key"})

        assert async_to_sync(pipeline.authenticate)(call).status == 401
        assert call.name is None


class TestLifecycleGate:
    def test_a_deprecated_version_gets_its_headers_to_add_later(self, routed):
        call = routed_call("/faq/v1/faqs/17")

        assert pipeline.lifecycle_gate(call) is None
        assert set(call.lifecycle_headers) == {"Deprecation", "Sunset", "Link"}
        assert '</faq/v2/faqs/17>; rel="successor-version"' in call.lifecycle_headers["Link"]

    def test_an_active_version_gets_none(self, routed):
        call = routed_call()

        assert pipeline.lifecycle_gate(call) is None
        assert call.lifecycle_headers == {}


def test_limit_answers_429_once_the_consumer_is_over(routed, make_consumer):
    consumer, _ = make_consumer("bursty", rate_limit_per_minute=2)
    call = routed_call()
    call.consumer, call.name = consumer, consumer.name

    answers = [pipeline.limit(call) for _ in range(3)]

    assert answers[:2] == [None, None]
    assert answers[2].status == 429
    assert int(answers[2].header("Retry-After")) >= 1


def test_finish_adds_the_lifecycle_headers_and_keeps_the_upstreams_links(routed, recorder):
    call = routed_call("/faq/v1/faqs/17")
    pipeline.lifecycle_gate(call)
    answer = pipeline.Answer(200, [("Link", '</faq/v1/faqs/18>; rel="next"')])

    pipeline.finish(call, answer)

    link = answer.header("Link")
    assert link.startswith('</faq/v1/faqs/18>; rel="next", ')
    assert 'rel="deprecation"' in link
    assert answer.header("Deprecation").startswith("@")
    assert recorder.pending() == 1
