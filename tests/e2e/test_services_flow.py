"""Services calling services through the gateway, as real processes: the calls that must never
be lost or doubled when a provider is down."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from tests.e2e import flows
from tests.e2e.conftest import REPO_ROOT, Launcher, create_consumer, free_port

pytestmark = pytest.mark.e2e

HAS_BILLING = (REPO_ROOT / "services" / "billing" / "settings.py").exists()


def manage(server, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


@pytest.fixture(scope="module")
def system(tmp_path_factory, http):
    """faq, tickets (and billing) behind one gateway; each service calls the others through the
    gateway with a consumer key of its own, and every call is signed."""
    launcher = Launcher(tmp_path_factory.mktemp("e2e-flow"), http)
    secret = os.urandom(16).hex()
    ports = {name: str(free_port()) for name in ("gateway", "faq", "tickets", "billing")}
    base = f"http://127.0.0.1:{ports['gateway']}"
    services = ["faq", "tickets"] + (["billing"] if HAS_BILLING else [])
    try:
        gateway = launcher.start(
            "gateway",
            label="flow-gateway",
            PORT=ports["gateway"],
            GATEWAY_SECRET=secret,
            GATEWAY_USAGE_FLUSH_SECONDS="0.5",
            **{f"{s.upper()}_UPSTREAM": f"http://127.0.0.1:{ports[s]}" for s in services},
        )
        keys = {s: create_consumer(gateway, f"{s}-service") for s in services}
        keys["client"] = create_consumer(gateway, "front-desk")
        common = {
            "GATEWAY_SECRET": secret,
            "FAQ_API": f"{base}/faq",
            "TICKETS_API": f"{base}/tickets",
            "BILLING_API": f"{base}/billing",
            "SERVICE_CLIENT_READ_TIMEOUT": "5",
        }
        servers = {
            s: launcher.start(
                s, label=f"flow-{s}", PORT=ports[s], GATEWAY_API_KEY=keys[s], **common
            )
            for s in services
        }
        yield {"gateway": gateway, "keys": keys, "launcher": launcher, **servers}
    finally:
        launcher.close()


def call(http, system, method, path, **kwargs):
    headers = {"Authorization": f"Bearer {system['keys']['client']}", **kwargs.pop("headers", {})}
    return http.request(method, f"{system['gateway'].url}{path}", headers=headers, **kwargs)


def faq_entries_about(http, system, text: str) -> list[dict]:
    response = call(http, system, "GET", "/faq/v2/faqs", params={"q": text})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_a_resolved_ticket_promoted_while_faq_is_down_becomes_exactly_one_entry(http, system):
    subject = f"Promotion {uuid.uuid4().hex[:8]}"
    ticket_id, resolve = flows.resolve_with_promotion(
        lambda method, path, **kwargs: call(http, system, method, path, **kwargs), subject
    )

    faq = system["faq"]
    assert faq.stop() == 0  # the FAQ goes down
    resolved = resolve()

    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["promotion"]["status"] == "pending"

    revived = system["launcher"].start(
        "faq",
        label="flow-faq-again",
        PORT=str(faq.port),
        DATABASE_URL=faq.env["DATABASE_URL"],
        GATEWAY_SECRET=faq.env["GATEWAY_SECRET"],
    )
    system["faq"] = revived
    manage(system["tickets"], "promote_pending")
    manage(system["tickets"], "promote_pending")  # a second pass must not send it again

    entries = faq_entries_about(http, system, subject)
    assert len(entries) == 1
    assert entries[0]["source"] == {"kind": "ticket", "ref": str(ticket_id), "url": None}
    after = call(http, system, "GET", f"/tickets/v2/tickets/{ticket_id}").json()
    assert after["promotion"]["status"] == "done"
    assert after["promotion"]["faq_entry_id"] == entries[0]["id"]


def test_a_ticket_promoted_through_v1_lands_in_the_faq_once(http, system):
    subject = f"V1 promotion {uuid.uuid4().hex[:8]}"
    ticket = call(
        http,
        system,
        "POST",
        "/tickets/v1/tickets",
        json={"subject": subject, "body": "Where is my invoice?", "requester": "bo@example.com"},
    ).json()

    resolved = call(
        http,
        system,
        "POST",
        f"/tickets/v1/tickets/{ticket['id']}/resolve",
        json={"answer": "Under Billing.", "promote": True},
    )
    manage(system["tickets"], "promote_pending")

    assert resolved.status_code == 200, resolved.text
    entries = faq_entries_about(http, system, subject)
    assert len(entries) == 1
    assert entries[0]["answer"] == "Under Billing."


@pytest.mark.skipif(not HAS_BILLING, reason="the billing service is not in this checkout")
def test_a_declined_card_opens_exactly_one_ticket_even_while_tickets_is_down(http, system):
    def via_gateway(method, path, **kwargs):
        return call(http, system, method, path, **kwargs)

    order_id, total = flows.billed_order(via_gateway)
    tickets = system["tickets"]
    assert tickets.stop() == 0  # tickets goes down: the payment must not wait or fail
    declined = flows.pay_with_a_declined_card(via_gateway, order_id, total)
    assert declined.status_code in (200, 201), declined.text
    assert "4000000000000002" not in declined.text

    revived = system["launcher"].start(
        "tickets",
        label="flow-tickets-again",
        PORT=str(tickets.port),
        DATABASE_URL=tickets.env["DATABASE_URL"],
        GATEWAY_SECRET=tickets.env["GATEWAY_SECRET"],
        GATEWAY_API_KEY=tickets.env["GATEWAY_API_KEY"],
        FAQ_API=tickets.env["FAQ_API"],
    )
    system["tickets"] = revived
    manage(system["billing"], "send_ticket_requests")
    manage(system["billing"], "send_ticket_requests")  # a second pass must not send it again

    found = call(
        http, system, "GET", "/tickets/v2/tickets", params={"order_ref": f"order-{order_id}"}
    )
    assert found.status_code == 200, found.text
    [ticket] = found.json()["items"]
    assert "declined" in ticket["subject"].lower()
    assert "4000000000000002" not in found.text
