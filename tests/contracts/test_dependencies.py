"""contracts is a library the services and the gateway use, never the other way round."""

import ast
from pathlib import Path

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_no_contracts_module_imports_the_services_or_the_gateway():
    offending = {
        f"{path.relative_to(CONTRACTS)}: {module}"
        for path in CONTRACTS.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] in {"services", "gateway"}
    }

    assert offending == set()
