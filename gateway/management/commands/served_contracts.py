"""``manage.py served_contracts --server URL --out DIR``: the contracts as the gateway serves them.

Writes ``DIR/<service>/<version>.yaml`` (or ``.json``) for every published service and version,
routed here or not, so linters, client generators and test tools can read what consumers read
without a running gateway.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand

import contracts
from contracts import generate
from gateway import served


class Command(BaseCommand):
    help = "Write the served (consumer's view) contract of every published service and version."

    def add_arguments(self, parser):
        parser.add_argument("--server", required=True, help="the gateway's public URL")
        parser.add_argument("--out", required=True, type=Path, help="a directory to write into")
        parser.add_argument("--format", choices=("yaml", "json"), default="yaml")

    def handle(self, *args, server, out, format, **options):
        for service, versions in contracts.published().items():
            for version in versions:
                document = served.document(service, version, server)
                target = out / service / f"{version}.{format}"
                target.parent.mkdir(parents=True, exist_ok=True)
                if format == "json":
                    text = json.dumps(document, indent=2)
                else:
                    text = generate.render(document)
                target.write_text(text, encoding="utf-8")
                self.stdout.write(str(target))
