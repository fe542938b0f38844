"""Schedule the reporting-progress alerts in django-celery-beat (editable in admin): the alert
pass every day at 09:00 and the weekly digest every Monday at 09:00, Asia/Shanghai."""

from django.db import migrations

ALERTS_NAME = "质控上报提醒与逾期通知（每天 09:00）"
DIGEST_NAME = "质控上报进度周报（每周一 09:00）"


def schedule_progress_alerts(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    daily, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="9", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )  # fmt: skip
    mondays, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="9", day_of_week="1", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )  # fmt: skip
    PeriodicTask.objects.get_or_create(
        name=ALERTS_NAME,
        defaults={
            "task": "reporting.send_progress_alerts",
            "crontab": daily,
            "enabled": True,
            "description": "截止前 7/3/1 天提醒未上报单位；截止次日通知逾期单位及其分中心；"
            "逾期 7 天仍未上报的单位上报省质控中心。每条提醒每个单位每期只发一次。",
        },
    )
    PeriodicTask.objects.get_or_create(
        name=DIGEST_NAME,
        defaults={
            "task": "reporting.send_progress_digest",
            "crontab": mondays,
            "enabled": True,
            "description": "填报窗口开放期间，每周一向省质控中心管理员发送上报进度汇总。",
        },
    )
    # Tell a running beat that the schedule changed (what PeriodicTasks.changed() does).
    from django.utils import timezone

    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule_progress_alerts(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[ALERTS_NAME, DIGEST_NAME]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reporting", "0002_alertlog"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_progress_alerts, unschedule_progress_alerts)]
