"""``manage.py consumers create|list|revoke|rotate``: who may call through the gateway."""

import argparse

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from gateway import auth
from gateway.management import tables
from gateway.models import Consumer


def _positive(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a positive whole number")
    return int(raw)


class Command(BaseCommand):
    help = "Manage the consumers (API keys) of the gateway."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
        create = actions.add_parser("create", help="Create a consumer; prints its key last.")
        create.add_argument("name")
        create.add_argument("--owner", required=True, help="The team that owns the caller.")
        create.add_argument("--contact", required=True, help="An email for deprecation notices.")
        create.add_argument(
            "--platform", action="store_true", help="May read usage data (/__usage__/)."
        )
        create.add_argument(
            "--rate-limit", type=_positive, help="Calls per minute (default: the gateway's)."
        )
        actions.add_parser("list", help="List consumers (keys are never shown).")
        revoke = actions.add_parser("revoke", help="Revoke a consumer's key for good.")
        revoke.add_argument("name")
        rotate = actions.add_parser(
            "rotate", help="Issue a new key; the old one stops working within a second."
        )
        rotate.add_argument("name")

    def handle(self, *args, **options):
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options):
        if Consumer.objects.filter(name=options["name"]).exists():
            raise CommandError(f"A consumer named {options['name']!r} exists already.")
        try:
            consumer, key = auth.consumer_create(
                name=options["name"],
                owner=options["owner"],
                contact=options["contact"],
                platform=options["platform"],
                rate_limit_per_minute=options["rate_limit"],
            )
        except ValidationError as exc:
            problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(problems) from exc
        self.stdout.write(
            f"Created consumer {consumer.name} (owner {consumer.owner}, {consumer.contact})."
        )
        self.stdout.write("Its key, shown this once (store it now):")
        self.stdout.write(key)

    def _list(self, options):
        rows = [("NAME", "OWNER", "CONTACT", "KEY", "STATE", "CREATED")]
        for consumer in Consumer.objects.all():
            state = "revoked" if consumer.revoked_at else "active"
            if consumer.is_platform:
                state += ", platform"
            rows.append(
                (
                    consumer.name,
                    consumer.owner,
                    consumer.contact,
                    consumer.key_prefix + "…",
                    state,
                    f"{consumer.created_at:%Y-%m-%d}",
                )
            )
        for line in tables.lines(rows):
            self.stdout.write(line)

    def _revoke(self, options):
        try:
            consumer = auth.consumer_revoke(name=options["name"])
        except Consumer.DoesNotExist:
            raise CommandError(f"No active consumer named {options['name']!r}.") from None
        self.stdout.write(
            f"Revoked {consumer.name}; its key stops working on every gateway worker within a"
            " second."
        )

    def _rotate(self, options):
        try:
            consumer, key = auth.consumer_rotate(name=options["name"])
        except Consumer.DoesNotExist:
            raise CommandError(f"No active consumer named {options['name']!r}.") from None
        self.stdout.write(
            f"Rotated the key of {consumer.name}; the old key stops working on every gateway"
            " worker within a second."
        )
        self.stdout.write("Its new key, shown this once:")
        self.stdout.write(key)
