"""The final tally of an order: lines, bundles, discounts and the total, in integer cents.

Pure functions over what was ordered; nothing here reads or writes the database. Bundles are
judged on the whole table, not per diner: Jane's omelet makes Derek's coffee free.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Ordered:
    """One item as ordered: which, at what unit price, how many."""

    item: str
    name: str
    unit_price: int
    quantity: int


@dataclass(frozen=True)
class Line:
    item: str
    name: str
    quantity: int
    unit_price: int
    amount: int


@dataclass(frozen=True)
class Discount:
    code: str
    description: str
    amount: int


@dataclass(frozen=True)
class Tally:
    lines: list[Line]
    subtotal: int
    discounts: list[Discount]
    total: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Bundle:
    """Each ``item`` ordered makes one ``free_item`` free (the dearest ones first)."""

    code: str
    description: str
    item: str
    free_item: str


@dataclass(frozen=True)
class PercentOff:
    code: str
    description: str
    percent: int

    def amount(self, base: int) -> int:
        """Rounded to the nearest cent, halves in the diner's favour."""
        return (base * self.percent + 50) // 100


BUNDLES: tuple[Bundle, ...] = (
    Bundle("omelet-includes-coffee", "Omelet includes a coffee", item="omelet", free_item="coffee"),
)
DISCOUNT_CODES: dict[str, PercentOff] = {
    "HAPPYHOUR": PercentOff("HAPPYHOUR", "Happy hour: 10% off", 10),
}


def normalize_code(code: str) -> str:
    return code.strip().upper()


def discount_for(code: str) -> PercentOff | None:
    return DISCOUNT_CODES.get(normalize_code(code))


def lines_of(ordered: Iterable[Ordered]) -> list[Line]:
    """One line per menu item and unit price, in the order first ordered."""
    quantities: dict[tuple[str, int], int] = {}
    names: dict[str, str] = {}
    for entry in ordered:
        key = (entry.item, entry.unit_price)
        quantities[key] = quantities.get(key, 0) + entry.quantity
        names.setdefault(entry.item, entry.name)
    return [
        Line(item, names[item], quantity, price, quantity * price)
        for (item, price), quantity in quantities.items()
    ]


def _bundle_discount(bundle: Bundle, lines: list[Line]) -> int:
    free = sum(line.quantity for line in lines if line.item == bundle.item)
    amount = 0
    for line in sorted(lines, key=lambda line: -line.unit_price):
        if line.item != bundle.free_item or free <= 0:
            continue
        count = min(free, line.quantity)
        amount += count * line.unit_price
        free -= count
    return amount


def tally(ordered: Iterable[Ordered], *, discount_code: str = "") -> Tally:
    """Lines, then bundles, then a percentage off what the bundles leave.

    ``discount_code`` must be one of ``DISCOUNT_CODES`` (or empty): the caller validates it.
    """
    lines = lines_of(ordered)
    subtotal = sum(line.amount for line in lines)
    discounts = []
    for bundle in BUNDLES:
        amount = _bundle_discount(bundle, lines)
        if amount:
            discounts.append(Discount(bundle.code, bundle.description, amount))
    if discount_code:
        offer = DISCOUNT_CODES[normalize_code(discount_code)]
        base = subtotal - sum(d.amount for d in discounts)
        amount = offer.amount(base)
        if amount:
            discounts.append(Discount(offer.code, offer.description, amount))
    total = subtotal - sum(d.amount for d in discounts)
    return Tally(lines=lines, subtotal=subtotal, discounts=discounts, total=total)
