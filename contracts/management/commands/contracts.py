"""``manage.py contracts generate|check|diff``: keep code and published contracts in step.

Each service is its own Django project, so a command about another service re-runs itself
with ``SERVICE=<that service>``; ``generate`` and ``check`` with no names cover every service.
"""

import os
import subprocess
import sys
from difflib import unified_diff
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

import contracts
from contracts.diff import breaking_changes
from contracts.validation import validate_document


class Command(BaseCommand):
    help = "Generate, check and diff the published OpenAPI contracts."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, parser_class=type(parser))
        generate = actions.add_parser("generate", help="Rewrite contracts/ from the code.")
        generate.add_argument("services", nargs="*", metavar="SERVICE")
        check = actions.add_parser(
            "check", help="Fail when the code and the committed contracts differ."
        )
        check.add_argument("services", nargs="*", metavar="SERVICE")
        diff = actions.add_parser("diff", help="List breaking changes from one version to another.")
        diff.add_argument("service")
        diff.add_argument("old", metavar="OLD_VERSION")
        diff.add_argument("new", metavar="NEW_VERSION")
        diff.add_argument(
            "--fail-on-breaking", action="store_true", help="Exit 1 when anything would break."
        )

    def handle(self, *args, **options):
        action = options["action"]
        if action == "diff":
            return self._diff(options)
        known = settings.API_SERVICES
        targets = options["services"] or known
        unknown = sorted(set(targets) - set(known))
        if unknown:
            raise CommandError(f"Unknown service(s): {', '.join(unknown)}")
        failed = []
        for service in targets:
            ok = self._run_for(service, action, options["verbosity"])
            if not ok:
                failed.append(service)
        if failed:
            raise CommandError(f"contracts {action} failed for: {', '.join(failed)}")

    def _run_for(self, service: str, action: str, verbosity: int) -> bool:
        if service != settings.SERVICE_NAME:
            env = {**os.environ, "SERVICE": service}
            manage_py = Path(settings.BASE_DIR) / "manage.py"
            command = [sys.executable, str(manage_py), "contracts", f"-v{verbosity}"]
            command += [action, service]
            return subprocess.run(command, env=env, check=False).returncode == 0
        from contracts.generate import documents

        generated = documents(service)
        if action == "generate":
            self._generate(service, generated)
            return True
        return self._check(service, generated)

    def _generate(self, service: str, generated: dict[str, str]) -> None:
        for version, text in generated.items():
            path = contracts.contract_path(service, version)
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.is_file() and path.read_text(encoding="utf-8") == text:
                self.stdout.write(f"{service} {version}: unchanged")
                continue
            path.write_text(text, encoding="utf-8")
            self.stdout.write(self.style.SUCCESS(f"{service} {version}: wrote {path.name}"))

    def _check(self, service: str, generated: dict[str, str]) -> bool:
        ok = True
        committed_versions = contracts.published().get(service, [])
        for version in sorted(set(committed_versions) - set(generated)):
            ok = False
            self.stderr.write(
                f"{service} {version}: published, but the code no longer serves it. A published "
                "version is removed by sunsetting it at the gateway, not by deleting its code."
            )
        for version, text in generated.items():
            path = contracts.contract_path(service, version)
            if not path.is_file():
                ok = False
                self.stderr.write(
                    f"{service} {version}: not published; run `manage.py contracts generate`."
                )
                continue
            committed_text = path.read_text(encoding="utf-8")
            committed = yaml.safe_load(committed_text)
            validate_document(committed)
            if committed_text == text:
                self.stdout.write(f"{service} {version}: matches the code")
                continue
            ok = False
            breaking = breaking_changes(committed, yaml.safe_load(text))
            if breaking:
                self.stderr.write(
                    f"{service} {version}: the code breaks the published contract. A published "
                    "version never changes incompatibly; make the change in a new version."
                )
                for change in breaking:
                    self.stderr.write(f"  - {change}")
            else:
                self.stderr.write(
                    f"{service} {version}: the code differs from the committed contract; run "
                    "`manage.py contracts generate` and commit the result."
                )
            diff = unified_diff(
                committed_text.splitlines(),
                text.splitlines(),
                f"committed/{service}/{version}.yaml",
                f"code/{service}/{version}.yaml",
                lineterm="",
                n=2,
            )
            self.stderr.write("\n".join(list(diff)[:80]))
        return ok

    def _diff(self, options) -> None:
        service = options["service"]
        try:
            old = contracts.load(service, options["old"])
            new = contracts.load(service, options["new"])
        except contracts.UnknownContract as exc:
            raise CommandError(str(exc)) from exc
        changes = breaking_changes(old, new)
        title = f"{service} {options['old']} -> {options['new']}"
        if not changes:
            self.stdout.write(f"{title}: no breaking changes")
            return
        self.stdout.write(f"{title}: {len(changes)} breaking change(s)")
        for change in changes:
            self.stdout.write(f"  - {change}")
        if options["fail_on_breaking"]:
            raise CommandError("breaking changes found", returncode=1)
