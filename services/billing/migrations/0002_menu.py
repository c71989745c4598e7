"""The menu the restaurant opens with. Prices are integer cents."""

from django.db import migrations

MENU = [
    ("salad", "Garden salad", 850),
    ("juice", "Orange juice", 400),
    ("omelet", "Omelet", 950),
    ("coffee", "Coffee", 300),
    ("pancakes", "Pancakes", 780),
    ("tea", "Tea", 250),
    ("toast", "Toast and jam", 350),
]


def add_menu(apps, schema_editor):
    MenuItem = apps.get_model("billing", "MenuItem")
    for position, (code, name, price) in enumerate(MENU, start=1):
        MenuItem.objects.update_or_create(
            code=code, defaults={"name": name, "price": price, "position": position}
        )


def remove_menu(apps, schema_editor):
    MenuItem = apps.get_model("billing", "MenuItem")
    MenuItem.objects.filter(code__in=[code for code, _, _ in MENU]).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(add_menu, remove_menu)]
