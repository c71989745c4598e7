"""``manage.py promote_pending [--loop SECONDS] [--retry-failed]``: ``manage.py worker --once``
under the name operators know (every pending FAQ promotion now; with ``--loop``, the worker)."""

from services.kit.management.commands.worker import AliasCommand


class Command(AliasCommand):
    help = "Deliver pending FAQ promotions, oldest first; with --loop, every SECONDS until stopped."
