"""Clients generated from the served contracts (openapi-python-client) drive a live gateway.

Each served contract (faq, tickets, billing x v1, v2) is fetched from a real gateway in front of
real services, turned into a Python package in pytest's tmp directory, imported, and used as a
consumer would: against the contract's own ``servers`` URL, with a bearer key. The gateway's own
answers are in the contract, so a wrong key comes back as the Problem model, not as an
"unexpected status", and so does a 429 with its Retry-After.

All six clients are generated once for the module, two at a time, within GENERATION_BUDGET.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from tests.e2e.conftest import VENV_BIN, Launcher, create_consumer, wait_until_healthy

pytestmark = pytest.mark.e2e

httpx = pytest.importorskip("httpx")
GENERATOR = VENV_BIN / "openapi-python-client"
if not GENERATOR.exists():
    pytest.skip(
        "openapi-python-client is not installed (bin/setup installs it)", allow_module_level=True
    )

SERVICES = ("faq", "tickets", "billing")
VERSIONS = ("v1", "v2")
CONTRACTS = [(service, version) for service in SERVICES for version in VERSIONS]
# Six generations take about 10 s on a quiet two-core machine; the budget leaves room for load.
GENERATION_BUDGET = 120
GENERATION_TIMEOUT = 90
# The generated code is imported, never read or committed: no formatting hooks.
GENERATOR_CONFIG = "post_hooks: []\n"
# Any list operation of each contract: what a wrong or rate-limited key is refused on.
LISTS = {"faq": "faq_list", "tickets": "ticket_list", "billing": "billing_menu"}


@dataclass
class Generated:
    service: str
    version: str
    package: ModuleType
    server_url: str

    def operation(self, operation_id: str) -> ModuleType:
        """The generated module of ``operation_id`` (the generator names them so, under a tag)."""
        root = Path(self.package.__file__).parent
        (path,) = root.glob(f"api/*/{operation_id}.py")
        return importlib.import_module(
            f"{self.package.__name__}.api.{path.parent.name}.{path.stem}"
        )

    def model(self, name: str):
        return getattr(importlib.import_module(f"{self.package.__name__}.models"), name)

    def client(self, key: str):
        return self.package.AuthenticatedClient(
            base_url=self.server_url,
            token=key,
            raise_on_unexpected_status=True,
            timeout=httpx.Timeout(20),
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory, http):
    """faq, tickets and billing behind one gateway (one worker: rate-limit windows in one place)."""
    launcher = Launcher(tmp_path_factory.mktemp("e2e-clients"), http)
    try:
        upstreams = {s: launcher.spawn(s, label=f"clients-{s}") for s in SERVICES}
        gateway = launcher.spawn(
            "gateway",
            label="clients-gateway",
            WEB_CONCURRENCY="1",
            **{f"{s.upper()}_UPSTREAM": upstreams[s].url for s in SERVICES},
        )
        for server in (*upstreams.values(), gateway):
            wait_until_healthy(server, http)
        yield gateway
    finally:
        launcher.close()


@pytest.fixture(scope="module")
def clients(stack, http, tmp_path_factory) -> dict[tuple[str, str], Generated]:
    gateway = stack
    root = tmp_path_factory.mktemp("generated-clients")
    config = root / "generator.yaml"
    config.write_text(GENERATOR_CONFIG)
    documents = {}
    for service, version in CONTRACTS:
        response = http.get(f"{gateway.url}/__api__/{service}/{version}.yaml")
        assert response.status_code == 200, response.text
        documents[service, version] = root / f"{service}_{version}.yaml"
        documents[service, version].write_bytes(response.content)

    def generate(contract: tuple[str, str]) -> None:
        service, version = contract
        target = root / f"served_{service}_{version}"
        result = subprocess.run(
            [
                str(GENERATOR),
                "generate",
                "--path",
                str(documents[contract]),
                "--meta",
                "none",
                "--output-path",
                str(target),
                "--config",
                str(config),
                "--fail-on-warning",
            ],
            capture_output=True,
            text=True,
            timeout=GENERATION_TIMEOUT,
            check=False,
        )
        assert result.returncode == 0, f"{service} {version}:\n{result.stdout}\n{result.stderr}"

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(generate, CONTRACTS))
    elapsed = time.monotonic() - started
    print(f"\ngenerated {len(CONTRACTS)} clients in {elapsed:.1f} s")
    assert elapsed < GENERATION_BUDGET

    sys.path.insert(0, str(root))
    try:
        generated = {}
        for service, version in CONTRACTS:
            document = yaml.safe_load(documents[service, version].read_text())
            generated[service, version] = Generated(
                service=service,
                version=version,
                package=importlib.import_module(f"served_{service}_{version}"),
                server_url=document["servers"][0]["url"],
            )
        yield generated
    finally:
        sys.path.remove(str(root))
        for name in list(sys.modules):
            if name.startswith("served_"):
                del sys.modules[name]


@pytest.fixture(scope="module")
def key(stack) -> str:
    return create_consumer(stack, "generated-client")


def idempotency_key() -> str:
    return uuid.uuid4().hex


@pytest.mark.parametrize(("service", "version"), CONTRACTS)
def test_every_served_contract_points_its_client_at_the_gateway(stack, clients, service, version):
    assert clients[service, version].server_url == f"{stack.url}/{service}"


@pytest.mark.parametrize("version", VERSIONS)
def test_faq_create_list_read(clients, key, version):
    faq = clients["faq", version]
    client = faq.client(key)
    Request = faq.model("EntryCreateRequest")
    if version == "v1":
        body = Request(question=f"Generated {version}?", source="generated-client")
    else:
        source = faq.model("SourceInputRequest")(kind=faq.model("KindEnum").CHAT)
        body = Request(question=f"Generated {version}?", source=source)

    created = faq.operation("faq_create").sync_detailed(client=client, body=body)
    assert created.status_code == 201, created.content
    entry = created.parsed
    assert isinstance(entry, faq.model("Entry"))
    assert entry.question == f"Generated {version}?"

    listed = faq.operation("faq_list").sync_detailed(client=client, q=f"Generated {version}")
    assert listed.status_code == 200, listed.content
    page = listed.parsed
    items = page.results if version == "v1" else page.items
    assert [item.id for item in items] == [entry.id]

    read = faq.operation("faq_retrieve").sync_detailed(entry.id, client=client)
    assert read.status_code == 200, read.content
    assert read.parsed.to_dict() == entry.to_dict()
    if version == "v1":  # deprecated: the gateway says so on every answer
        assert read.headers["Deprecation"].startswith("@")
        assert read.headers["Sunset"]
    else:
        assert "Deprecation" not in read.headers


@pytest.mark.parametrize("version", VERSIONS)
def test_tickets_create_list_read(clients, key, version):
    tickets = clients["tickets", version]
    client = tickets.client(key)
    requester = (
        "ada@example.com"
        if version == "v1"
        else tickets.model("RequesterInputRequest")(email="ada@example.com", name="Ada")
    )
    body = tickets.model("TicketCreateRequest")(
        subject=f"Generated ticket {version}",
        body="Opened by a generated client.",
        requester=requester,
    )

    created = tickets.operation("ticket_create").sync_detailed(
        client=client, body=body, idempotency_key=idempotency_key()
    )
    assert created.status_code == 201, created.content
    ticket = created.parsed
    assert isinstance(ticket, tickets.model("Ticket"))

    listed = tickets.operation("ticket_list").sync_detailed(
        client=client, q=f"Generated ticket {version}"
    )
    assert listed.status_code == 200, listed.content
    page = listed.parsed
    items = page.results if version == "v1" else page.items
    assert [item.id for item in items] == [ticket.id]

    read = tickets.operation("ticket_retrieve").sync_detailed(ticket.id, client=client)
    assert read.status_code == 200, read.content
    assert read.parsed.id == ticket.id
    assert read.parsed.subject == f"Generated ticket {version}"


@pytest.mark.parametrize("version", VERSIONS)
def test_billing_menu_and_an_order_created_then_read(clients, key, version):
    billing = clients["billing", version]
    client = billing.client(key)

    menu = billing.operation("billing_menu").sync_detailed(client=client)
    assert menu.status_code == 200, menu.content
    assert isinstance(menu.parsed, billing.model("Menu"))
    assert menu.parsed.items

    created = billing.operation("billing_order_create").sync_detailed(
        client=client,
        body=billing.model("OrderCreateRequest")(table=f"T-{version}"),
        idempotency_key=idempotency_key(),
    )
    assert created.status_code == 201, created.content
    order = created.parsed
    assert isinstance(order, billing.model("Order"))

    read = billing.operation("billing_order_retrieve").sync_detailed(order.id, client=client)
    assert read.status_code == 200, read.content
    assert read.parsed.id == order.id
    assert read.parsed.table == f"T-{version}"


@pytest.mark.parametrize(("service", "version"), CONTRACTS)
def test_a_wrong_key_is_a_401_problem(clients, service, version):
    generated = clients[service, version]

    answer = generated.operation(LISTS[service]).sync_detailed(
        client=generated.client("not-a-key-of-this-gateway")
    )

    assert answer.status_code == 401
    problem = answer.parsed
    assert isinstance(problem, generated.model("Problem"))
    assert problem.status == 401
    assert problem.title
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture(scope="module")
def limited_key(stack) -> str:
    return create_consumer(stack, "generated-limited", rate_limit=1)


@pytest.mark.parametrize(("service", "version"), CONTRACTS)
def test_over_the_rate_limit_is_a_429_problem_with_retry_after(
    clients, limited_key, service, version
):
    generated = clients[service, version]
    client = generated.client(limited_key)
    list_call = generated.operation(LISTS[service])

    # One call a minute in fixed windows: of three quick calls, at least one is over the limit
    # even when a window ends between two of them.
    answers = [list_call.sync_detailed(client=client) for _ in range(3)]

    refused = [answer for answer in answers if answer.status_code == 429]
    assert refused, [answer.status_code for answer in answers]
    assert all(answer.status_code in {200, 429} for answer in answers)
    for answer in refused:
        problem = answer.parsed
        assert isinstance(problem, generated.model("Problem"))
        assert problem.status == 429
        assert 1 <= int(answer.headers["Retry-After"]) <= 61
