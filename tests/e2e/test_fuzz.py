"""Every published contract fuzzed with Schemathesis against real processes, all checks on.

Each of the six contracts (faq, tickets, billing; v1 and v2) is fuzzed twice: straight at the
service, from the committed contract (the service's view), and through the gateway with a consumer
key, from the contract the gateway serves at ``/__api__/`` (the consumer's view). Every phase runs:
the contract's examples, the coverage phase (boundaries and each constraint broken once), random
fuzzing, and stateful sequences along the links Schemathesis infers from ``Location`` headers.

The budget is examples per operation and steps per stateful scenario, never fewer operations:
``FUZZ_MAX_EXAMPLES`` (3) and four steps keep the twelve runs, ``FUZZ_PARALLEL`` (4) at a time,
near two minutes on two cores; raise them locally to dig deeper (``FUZZ_SEED`` replays a run).

Calls straight at a service are signed with the gateway's secret by ``fuzz_hooks`` rather than
sent to a service started without one: the service is fuzzed with its gateway trust on, as deployed
(a service without the secret would be a configuration nobody runs, and would skip the trust check).

No check is left out (``EXCLUDED_CHECKS`` would name one, with why). What the contracts cannot say
is told to Schemathesis instead, each in one place with its reason: the statuses
``positive_data_acceptance`` also accepts (``EXPECTED_TOO``, and 400 for billing's reference data),
the refusals ``negative_data_rejection`` also accepts (414/431 from the HTTP server), and the
referential fixes in ``fuzz_hooks`` (made-up cursors and related ids left out of valid cases).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO_ROOT, Launcher, free_port, manage, wait_until_healthy

pytestmark = pytest.mark.e2e

SCHEMATHESIS = [sys.executable, "-m", "schemathesis.cli"]
SERVICES = ("faq", "tickets", "billing")
VERSIONS = ("v1", "v2")
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "3"))
# Schemathesis runs at once: two cores, and each run waits on the servers much of the time.
PARALLEL = int(os.environ.get("FUZZ_PARALLEL", "4"))
SEED = os.environ.get("FUZZ_SEED", "")
# Checks left out, each with why. Everything else (``--checks all``) is on.
EXCLUDED_CHECKS: dict[str, str] = {}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, http):
    """The three services behind one gateway, every call between them signed, and a consumer
    whose rate limit fuzzing cannot reach."""
    launcher = Launcher(tmp_path_factory.mktemp("e2e-fuzz"), http)
    secret = secrets.token_hex(16)
    ports = {name: str(free_port()) for name in ("gateway", *SERVICES)}
    base = f"http://127.0.0.1:{ports['gateway']}"
    try:
        # All four boot at once; only then wait for them.
        gateway = launcher.spawn(
            "gateway",
            label="fuzz-gateway",
            PORT=ports["gateway"],
            GATEWAY_SECRET=secret,
            # ignored_auth sends keyless and bad-key calls on purpose, from the address the
            # fuzzing calls come from: counting them would turn the rest into 429s.
            GATEWAY_AUTH_FAILURES_PER_MINUTE="0",
            **{f"{s.upper()}_UPSTREAM": f"http://127.0.0.1:{ports[s]}" for s in SERVICES},
        )
        common = {
            "GATEWAY_SECRET": secret,
            "FAQ_API": f"{base}/faq",
            "TICKETS_API": f"{base}/tickets",
            "BILLING_API": f"{base}/billing",
        }
        servers = {
            s: launcher.spawn(s, label=f"fuzz-{s}", PORT=ports[s], **common) for s in SERVICES
        }
        for server in (gateway, *servers.values()):
            wait_until_healthy(server, http)
        key = manage(
            gateway,
            *("consumers", "create", "fuzzer", "--owner", "e2e", "--contact", "fuzz@example.com"),
            *("--rate-limit", "1000000"),
        )
        yield {
            "gateway": gateway,
            "key": key.strip().splitlines()[-1],
            "secret": secret,
            **servers,
        }
    finally:
        launcher.close()


# Schemathesis' own defaults, with what the contracts cannot say (see EXPECTED_TOO).
_ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
_REFUSED = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "428"]
_REFUSED += ["429", "431", "5xx"]
# Answers to a schema-valid call that are right, not a contract gap, and why:
EXPECTED_TOO = {
    # An Idempotency-Key value reused with another body (the generator reuses "0", "A", 255
    # zeros ...; a one-character key has 94 values): the IETF draft's 422.
    "422": "a reused Idempotency-Key",
    # The same key replayed after the stateful phase deleted what it created (faq).
    "410": "a create replayed after its entry was deleted",
}
# Billing bodies name things that exist or not (menu items, discount codes, orders) or need a
# member when another has some value (a card for `method: card`): a 400 there is the service's
# answer to data no schema can rule out. Every other operation keeps the plain list.
REFERENCE_DATA_OPERATIONS = (
    "^billing_(order_create|order_item_add|order_bill|order_pay|payment_create)$"
)
CONFIG = f"""
# Every run starts afresh: no cache of past failures replayed first.
[cache]
enabled = false

# Scenarios of at most four calls (create, read, change, delete): the budget goes to more of
# them rather than longer ones.
[phases.stateful]
max-steps = 4

[checks.positive_data_acceptance]
expected-statuses = {json.dumps([*_ACCEPTED, *EXPECTED_TOO])}

# The HTTP server refuses a request line or headers past its limits before reading them: a
# refusal like any other 4xx (Schemathesis' list has 413's neighbours but not these two).
[checks.negative_data_rejection]
expected-statuses = {json.dumps(_REFUSED)}

[[operations]]
include-operation-id-regex = "{REFERENCE_DATA_OPERATIONS}"
checks.positive_data_acceptance.expected-statuses = {json.dumps([*_ACCEPTED, *EXPECTED_TOO, "400"])}
"""
# The consumer key for the served contracts' bearer scheme (gateway/served.py's SCHEME), given
# the way Schemathesis knows it, so that ignored_auth and missing_required_header can leave it out.
GATEWAY_CONFIG = (
    CONFIG
    + """
[auth.openapi.consumerKey]
bearer = "${FUZZ_CONSUMER_KEY}"
"""
)
# Tickets first: its runs are the longest (long text members), so the others fill in beside them.
TARGETS = [
    (route, s, v)
    for s in ("tickets", "faq", "billing")
    for route in ("service", "gateway")
    for v in VERSIONS
]


def _command(location: str, url: str, config: Path) -> list[str]:
    return [
        *SCHEMATHESIS,
        *("--config-file", str(config)),
        "run",
        location,
        *("--url", url),
        *("--checks", "all"),
        *("--max-examples", str(MAX_EXAMPLES)),
        *("--request-timeout", "10"),
        *("--workers", "1"),
        *("--generation-database", "none"),
        *("--suppress-health-check", "too_slow"),
        "--no-color",
        *(("--exclude-checks", ",".join(EXCLUDED_CHECKS)) if EXCLUDED_CHECKS else ()),
        *(("--seed", SEED) if SEED else ()),
    ]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCHEMATHESIS_", "FUZZ_"))}
    env.update(SCHEMATHESIS_HOOKS="tests.e2e.fuzz_hooks", PYTHONPATH=str(REPO_ROOT), **extra)
    return env


@pytest.fixture(scope="module")
def runs(fuzzed, tmp_path_factory) -> dict[tuple, tuple]:
    """Every target's Schemathesis run, ``FUZZ_PARALLEL`` at a time: ``{target: (result, s)}``."""
    directory = tmp_path_factory.mktemp("fuzz-runs")
    config = directory / "service.toml"
    config.write_text(CONFIG, encoding="utf-8")
    gateway_config = directory / "gateway.toml"
    gateway_config.write_text(GATEWAY_CONFIG, encoding="utf-8")
    gateway = fuzzed["gateway"]

    def run(index: int, target: tuple):
        route, service, version = target
        if route == "service":
            location = str(REPO_ROOT / "contracts" / service / f"{version}.yaml")
            command = _command(location, fuzzed[service].url, config)
            env = _env(FUZZ_RUN=str(index), FUZZ_GATEWAY_SECRET=fuzzed["secret"])
        else:
            location = f"{gateway.url}/__api__/{service}/{version}.json"
            command = _command(location, f"{gateway.url}/{service}", gateway_config)
            env = _env(FUZZ_RUN=str(index), FUZZ_CONSUMER_KEY=fuzzed["key"])
        started = time.monotonic()
        result = subprocess.run(
            command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        return result, time.monotonic() - started

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = {target: pool.submit(run, i, target) for i, target in enumerate(TARGETS)}
        return {target: future.result() for target, future in futures.items()}


@pytest.mark.parametrize(("route", "service", "version"), TARGETS)
def test_the_contract_holds_under_fuzzing(runs, route, service, version):
    result, took = runs[(route, service, version)]
    # Shown by -rP: where the budget goes, per target and phase.
    phases = [line.strip() for line in result.stdout.splitlines() if " (in " in line]
    print(f"{route} {service} {version}: {took:.1f}s; {'; '.join(phases)}")
    assert result.returncode == 0, (
        f"{route} {service} {version}, {took:.1f}s\n{result.stdout[-20000:]}\n"
        f"{result.stderr[-3000:]}"
    )
