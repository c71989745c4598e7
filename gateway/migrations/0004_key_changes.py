from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("gateway", "0003_coverage_notices"),
    ]

    operations = [
        migrations.CreateModel(
            name="KeyChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("serial", models.PositiveBigIntegerField(default=0)),
                ("changed_at", models.DateTimeField(auto_now=True)),
            ],
        ),
    ]
