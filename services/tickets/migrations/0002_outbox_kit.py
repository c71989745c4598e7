"""FaqPromotion becomes a row of the kit's outbox (services.kit.outbox.OutboxMessage): its states are
pending / sent / failed (``done`` was ``sent``), ``delivered_at`` is ``sent_at``, and it gains a
lease, a back-off time and the time of the last attempt (``updated_at``, which it replaces)."""

from django.db import migrations, models
from django.db.models import F

STATES = {"done": "sent"}  # old -> new; pending and failed keep their names


def forwards(apps, schema_editor):
    FaqPromotion = apps.get_model("tickets", "FaqPromotion")
    for old, new in STATES.items():
        FaqPromotion.objects.filter(status=old).update(status=new)
    FaqPromotion.objects.filter(attempts__gt=0).update(last_attempt_at=F("updated_at"))


def backwards(apps, schema_editor):
    FaqPromotion = apps.get_model("tickets", "FaqPromotion")
    for old, new in STATES.items():
        FaqPromotion.objects.filter(status=new).update(status=old)
    FaqPromotion.objects.filter(last_attempt_at__isnull=False).update(
        updated_at=F("last_attempt_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(
            model_name="faqpromotion",
            old_name="delivered_at",
            new_name="sent_at",
        ),
        migrations.RenameIndex(
            model_name="faqpromotion",
            new_name="tickets_faqpromotion_queue",
            old_name="tickets_faq_status_2a0f15_idx",
        ),
        migrations.AddField(
            model_name="faqpromotion",
            name="leased_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="faqpromotion",
            name="next_attempt_at",
            field=models.DateTimeField(
                blank=True, help_text="Not sent by the worker before then (back-off).", null=True
            ),
        ),
        migrations.AddField(
            model_name="faqpromotion",
            name="last_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="faqpromotion",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting to be sent"),
                    ("sent", "Sent"),
                    ("failed", "Refused for good"),
                    ("done", "In the FAQ (before the outbox moved to the kit)"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(
            model_name="faqpromotion",
            name="updated_at",
        ),
        migrations.AlterField(
            model_name="faqpromotion",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting to be sent"),
                    ("sent", "Sent"),
                    ("failed", "Refused for good"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
    ]
