"""TicketRequest becomes a row of the kit's outbox (services.kit.outbox.OutboxMessage): its states
are pending / sent / failed (``refused`` is ``failed``), it gains a back-off time, and
``last_error`` holds the whole explanation."""

from django.db import migrations, models

STATES = {"refused": "failed"}  # old -> new; pending and sent keep their names


def forwards(apps, schema_editor):
    TicketRequest = apps.get_model("billing", "TicketRequest")
    for old, new in STATES.items():
        TicketRequest.objects.filter(status=old).update(status=new)


def backwards(apps, schema_editor):
    TicketRequest = apps.get_model("billing", "TicketRequest")
    for old, new in STATES.items():
        TicketRequest.objects.filter(status=new).update(status=old)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_menu"),
    ]

    operations = [
        migrations.RenameIndex(
            model_name="ticketrequest",
            new_name="billing_ticketrequest_queue",
            old_name="billing_tic_status_b3218f_idx",
        ),
        migrations.AddField(
            model_name="ticketrequest",
            name="next_attempt_at",
            field=models.DateTimeField(
                blank=True, help_text="Not sent by the worker before then (back-off).", null=True
            ),
        ),
        migrations.AlterField(
            model_name="ticketrequest",
            name="last_error",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.AlterField(
            model_name="ticketrequest",
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
        migrations.RunPython(forwards, backwards),
    ]
