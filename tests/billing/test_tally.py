"""The final tally: lines, bundles (an omelet includes a coffee), a discount code, the total."""

import pytest

from services.billing.tally import Discount, Line, Ordered, discount_for, tally

SALAD = Ordered("salad", "Garden salad", 850, 1)
JUICE = Ordered("juice", "Orange juice", 400, 1)
OMELET = Ordered("omelet", "Omelet", 950, 1)
COFFEE = Ordered("coffee", "Coffee", 300, 1)
BUNDLE = "omelet-includes-coffee"


def ordered(item: Ordered, quantity: int = 1, unit_price: int | None = None) -> Ordered:
    return Ordered(item.item, item.name, unit_price or item.unit_price, quantity)


def discounts(result) -> dict[str, int]:
    return {d.code: d.amount for d in result.discounts}


def test_no_bundle_no_code_is_the_sum_of_the_lines():
    result = tally([SALAD, JUICE, ordered(COFFEE, 2)])

    assert result.lines == [
        Line("salad", "Garden salad", 1, 850, 850),
        Line("juice", "Orange juice", 1, 400, 400),
        Line("coffee", "Coffee", 2, 300, 600),
    ]
    assert (result.subtotal, result.discounts, result.total) == (1850, [], 1850)


def test_the_seed_table_one_coffee_comes_with_the_omelet():
    # John: salad & juice; Jane: omelet; Derek: coffee. Derek's coffee is Jane's bundle.
    result = tally([SALAD, JUICE, OMELET, COFFEE])

    assert result.subtotal == 2500
    assert result.discounts == [Discount(BUNDLE, "Omelet includes a coffee", 300)]
    assert result.total == 2200


def test_one_free_coffee_per_omelet_never_more():
    assert discounts(tally([ordered(OMELET, 2), ordered(COFFEE, 3)])) == {BUNDLE: 600}
    assert discounts(tally([ordered(OMELET, 3), ordered(COFFEE, 1)])) == {BUNDLE: 300}
    assert discounts(tally([ordered(OMELET, 2)])) == {}
    assert discounts(tally([ordered(COFFEE, 2)])) == {}


def test_items_ordered_separately_are_judged_together():
    # Several diners, several calls: the bundle is on the table's tally, not a diner's.
    result = tally([OMELET, COFFEE, OMELET, COFFEE, COFFEE])

    assert [(line.item, line.quantity) for line in result.lines] == [("omelet", 2), ("coffee", 3)]
    assert discounts(result) == {BUNDLE: 600}
    assert result.total == 1900 + 900 - 600


def test_the_dearest_coffees_are_the_free_ones():
    # The price of coffee changed between two rounds: the bundle frees the dearer one.
    result = tally([OMELET, ordered(COFFEE, 1, 300), ordered(COFFEE, 1, 320)])

    assert [(line.unit_price, line.quantity) for line in result.lines if line.item == "coffee"] == [
        (300, 1),
        (320, 1),
    ]
    assert discounts(result) == {BUNDLE: 320}


def test_happy_hour_takes_ten_percent():
    result = tally([SALAD, JUICE], discount_code="HAPPYHOUR")

    assert result.discounts == [Discount("HAPPYHOUR", "Happy hour: 10% off", 125)]
    assert result.total == 1125


def test_codes_are_case_insensitive_and_unknown_ones_are_none():
    assert discount_for(" happyHour ") is discount_for("HAPPYHOUR")
    assert discount_for("FREEFOOD") is None
    assert tally([SALAD], discount_code="happyhour").total == 765


def test_the_percentage_applies_after_the_bundles():
    result = tally([SALAD, JUICE, OMELET, COFFEE], discount_code="HAPPYHOUR")

    # 2500 - 300 (the coffee) = 2200; 10% of that is 220.
    assert discounts(result) == {BUNDLE: 300, "HAPPYHOUR": 220}
    assert [d.code for d in result.discounts] == [BUNDLE, "HAPPYHOUR"]
    assert result.total == 1980


@pytest.mark.parametrize(
    ("base", "off"),
    [(1005, 101), (1004, 100), (995, 100), (994, 99), (5, 1), (4, 0)],
)
def test_the_percentage_rounds_half_up_to_the_cent(base, off):
    result = tally([Ordered("x", "X", base, 1)], discount_code="HAPPYHOUR")

    assert result.total == base - off
    assert discounts(result) == ({"HAPPYHOUR": off} if off else {})


def test_an_empty_order_tallies_to_zero():
    result = tally([], discount_code="HAPPYHOUR")

    assert (result.lines, result.subtotal, result.discounts, result.total) == ([], 0, [], 0)


def test_as_dict_is_what_the_bill_stores():
    assert tally([OMELET, COFFEE]).as_dict() == {
        "lines": [
            {"item": "omelet", "name": "Omelet", "quantity": 1, "unit_price": 950, "amount": 950},
            {"item": "coffee", "name": "Coffee", "quantity": 1, "unit_price": 300, "amount": 300},
        ],
        "subtotal": 1250,
        "discounts": [
            {"code": BUNDLE, "description": "Omelet includes a coffee", "amount": 300},
        ],
        "total": 950,
    }
