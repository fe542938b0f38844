"""Schedule ``ops_portal.poll_mailbox`` every two minutes in django-celery-beat (editable in admin).

The schedule is always created and enabled: the task returns at once while ``MAILBOX_HOST`` is
unset (an MTA pipe to ``ingest_email`` needs no polling), and it also picks up stored messages
whose processing was interrupted.
"""

from django.db import migrations

TASK_NAME = "收取运维邮箱（每 2 分钟）"


def schedule_poll_mailbox(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_two, _ = IntervalSchedule.objects.get_or_create(every=2, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "ops_portal.poll_mailbox",
            "interval": every_two,
            "enabled": True,
            "description": "从 IMAP 收件箱读取未读邮件并建单或追加到工单（未设置 MAILBOX_HOST 时立即返回）。",
        },
    )
    from django.utils import timezone

    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule_poll_mailbox(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ops_portal", "0003_inboundemail"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_poll_mailbox, unschedule_poll_mailbox)]
