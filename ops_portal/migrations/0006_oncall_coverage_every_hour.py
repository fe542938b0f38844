"""Schedule ``ops_portal.oncall_coverage`` every hour in django-celery-beat (editable in admin):
it extends the rosters' shifts and flags hours of the next 14 days without a primary on call."""

from django.db import migrations

TASK_NAME = "值班覆盖检查（每小时）"


def schedule_coverage(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every_hour, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "ops_portal.oncall_coverage",
            "interval": every_hour,
            "enabled": True,
            "description": "续排常规值班表，检查未来 14 天每小时是否有主值班，新发现的空档通知运维负责人（每个空档一次）。",
        },
    )
    # Tell a running beat that the schedule changed (what PeriodicTasks.changed() does).
    from django.utils import timezone

    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule_coverage(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ops_portal", "0005_oncall_rosters_duty_requests_gaps"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_coverage, unschedule_coverage)]
