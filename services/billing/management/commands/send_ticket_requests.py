"""``manage.py send_ticket_requests [--loop SECONDS] [--retry-failed]``: ``manage.py worker
--once`` under the name operators know (every pending ticket request now; with ``--loop``, the
worker)."""

from services.kit.management.commands.worker import AliasCommand


class Command(AliasCommand):
    help = (
        "Send pending support-ticket requests (declined cards) to the tickets service. Safe to "
        "run anywhere, any number of times: each request carries its own Idempotency-Key."
    )
