from django.core.management.base import BaseCommand

from qc_core.orgs.services import load_divisions


class Command(BaseCommand):
    help = "Load (or update) Yunnan's administrative divisions from the bundled GB/T 2260 list. Idempotent."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        result = load_divisions()
        self.stdout.write(
            f"divisions: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        )
