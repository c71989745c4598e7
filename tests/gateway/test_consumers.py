"""gateway/auth.py and ``manage.py consumers``: who may call, with keys stored only as hashes."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gateway import auth
from gateway.models import Consumer
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

FAQ = "/faq/v2/faqs/17"


@pytest.fixture
def upstream(upstream):
    upstream.get("http://faq.internal/v2/faqs/17", json={"id": 17})
    return upstream


def assert_unauthorized(response, upstream, *, calls_before=0):
    """401 with a Bearer challenge, and the call went no further."""
    body = assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert 'realm="switchyard"' in response["WWW-Authenticate"]
    assert len(upstream.calls) == calls_before
    return body


class TestKeys:
    def test_a_valid_key_gets_through(self, gateway, upstream):
        response = gateway.get(FAQ)

        assert response.status_code == 200
        assert len(upstream.calls) == 1

    def test_the_bearer_scheme_is_case_insensitive(self, gateway, key, upstream):
        response = gateway.get(FAQ, headers={"Authorization": f"bearer {key}"})

        assert response.status_code == 200

    def test_a_missing_authorization_is_401(self, anonymous, upstream):
        body = assert_unauthorized(anonymous.get(FAQ), upstream)

        assert "Authorization: Bearer" in body["detail"]

    @pytest.mark.parametrize(
        "authorization",
        ["", "Bearer", "Bearer ", "Basic YWxpY2U6c2VjcmV0", "Token abc", "Bearer " + "k" * 201],
    )
    def test_a_malformed_authorization_is_401(self, anonymous, upstream, authorization):
        response = anonymous.get(FAQ, headers={"Authorization": authorization})

        assert_unauthorized(response, upstream)

    def test_the_key_in_another_scheme_does_not_count(self, anonymous, key, upstream):
        response = anonymous.get(FAQ, headers={"Authorization": f"Basic {key}"})

        assert_unauthorized(response, upstream)

    def test_an_unknown_key_is_401(self, gateway, upstream):
        body = assert_unauthorized(gateway.get(FAQ, key=auth.new_key()), upstream)

        assert "not valid" in body["detail"]

    def test_a_revoked_key_is_401(self, gateway, upstream):
        assert gateway.get(FAQ).status_code == 200  # and so cached as valid

        auth.consumer_revoke(name="alice")

        assert_unauthorized(gateway.get(FAQ), upstream, calls_before=1)

    def test_a_rotated_away_key_is_401_and_the_new_one_works(self, gateway, key, upstream):
        assert gateway.get(FAQ).status_code == 200

        _, new_key = auth.consumer_rotate(name="alice")

        assert_unauthorized(gateway.get(FAQ, key=key), upstream, calls_before=1)
        assert gateway.get(FAQ, key=new_key).status_code == 200

    def test_keys_are_stored_only_as_their_sha256(self, alice):
        consumer, key = alice
        row = Consumer.objects.filter(pk=consumer.pk).values().get()

        assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
        assert not any(key in str(value) for value in row.values())
        assert row["key_prefix"] == key[:10]

    def test_keys_are_long_random_and_recognisable(self, make_consumer):
        keys = {make_consumer(f"c{i}")[1] for i in range(3)}

        assert len(keys) == 3
        assert all(key.startswith("sy_") and len(key) >= 40 for key in keys)


def run(*args) -> list[str]:
    out = StringIO()
    call_command("consumers", *args, stdout=out)
    return out.getvalue().splitlines()


class TestCommand:
    def test_create_prints_the_key_alone_on_its_last_line_and_it_works(self, anonymous, upstream):
        lines = run("create", "mobile-app", "--owner", "Mobile", "--contact", "m@example.com")

        key = lines[-1]
        assert key.startswith("sy_")
        assert key.strip() == key
        assert not any(key in line for line in lines[:-1])
        consumer = Consumer.objects.get(name="mobile-app")
        assert (consumer.owner, consumer.contact) == ("Mobile", "m@example.com")
        assert consumer.key_hash == auth.hash_key(key)
        response = anonymous.get(FAQ, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200

    def test_create_takes_a_rate_limit_and_platform_flag(self):
        run("create", "ops", "--owner", "P", "--contact", "p@example.com")
        run(
            "create",
            "tools",
            "--owner",
            "P",
            "--contact",
            "p@example.com",
            "--platform",
            "--rate-limit",
            "50",
        )

        tools = Consumer.objects.get(name="tools")
        assert (tools.is_platform, tools.rate_limit_per_minute) == (True, 50)
        ops = Consumer.objects.get(name="ops")
        assert (ops.is_platform, ops.rate_limit_per_minute) == (False, None)

    def test_a_duplicate_name_is_refused(self, alice):
        with pytest.raises(CommandError, match="exists already"):
            run("create", "alice", "--owner", "X", "--contact", "x@example.com")

        assert Consumer.objects.get(name="alice").key_hash == alice[0].key_hash

    @pytest.mark.parametrize("name", ["Alice", "has space", "-leading", "x" * 65, "a/b", ""])
    def test_a_bad_name_is_refused(self, name):
        with pytest.raises(CommandError, match="name"):
            run("create", name, "--owner", "X", "--contact", "x@example.com")

        assert not Consumer.objects.exists()

    def test_a_bad_contact_is_refused(self):
        with pytest.raises(CommandError, match="contact"):
            run("create", "bob", "--owner", "X", "--contact", "not-an-email")

        assert not Consumer.objects.exists()

    def test_a_negative_rate_limit_is_refused_without_creating_the_consumer(self):
        with pytest.raises(CommandError):
            run(
                "create",
                "bob",
                "--owner",
                "X",
                "--contact",
                "x@example.com",
                "--rate-limit",
                "-5",
            )

        assert not Consumer.objects.filter(name="bob").exists()

    def test_list_shows_consumers_but_never_their_keys(self, make_consumer):
        _, alice_key = make_consumer("alice")
        _, bob_key = make_consumer("bob", is_platform=True)
        auth.consumer_revoke(name="bob")

        lines = run("list")
        output = "\n".join(lines)

        assert lines[0].split() == ["NAME", "OWNER", "CONTACT", "KEY", "STATE", "CREATED"]
        assert alice_key not in output and bob_key not in output
        assert alice_key[:10] + "…" in output  # enough to tell keys apart, far too little to use
        [alice_line] = [line for line in lines if line.startswith("alice ")]
        [bob_line] = [line for line in lines if line.startswith("bob ")]
        assert "active" in alice_line and "alice@example.com" in alice_line
        assert "revoked, platform" in bob_line

    def test_revoke_stops_the_key_at_once(self, gateway, key, upstream):
        assert gateway.get(FAQ).status_code == 200

        lines = run("revoke", "alice")

        assert "Revoked alice" in lines[-1]
        assert Consumer.objects.get(name="alice").revoked_at is not None
        assert_problem(gateway.get(FAQ), 401)
        assert len(upstream.calls) == 1

    def test_rotate_issues_a_new_key_and_the_old_one_stops(self, gateway, key, upstream):
        assert gateway.get(FAQ).status_code == 200

        lines = run("rotate", "alice")

        new_key = lines[-1]
        assert new_key.startswith("sy_") and new_key != key
        consumer = Consumer.objects.get(name="alice")
        assert consumer.key_hash == auth.hash_key(new_key)
        assert consumer.rotated_at is not None
        assert_problem(gateway.get(FAQ, key=key), 401)
        assert gateway.get(FAQ, key=new_key).status_code == 200

    @pytest.mark.parametrize("action", ["revoke", "rotate"])
    def test_revoke_and_rotate_need_an_active_consumer(self, alice, action):
        with pytest.raises(CommandError, match="No active consumer named 'nobody'"):
            run(action, "nobody")
        run("revoke", "alice")
        with pytest.raises(CommandError, match="No active consumer named 'alice'"):
            run(action, "alice")

    def test_a_revoked_key_cannot_be_rotated_back_to_life(self, gateway, key, upstream):
        run("revoke", "alice")

        with pytest.raises(CommandError):
            run("rotate", "alice")

        assert_problem(gateway.get(FAQ), 401)
