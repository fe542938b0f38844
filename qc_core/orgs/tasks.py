from typing import Any

from celery import shared_task
from django.utils.translation import gettext as _

from qc_core.orgs import services
from qc_core.system.tasks import TrackedTask


@shared_task(base=TrackedTask, bind=True, name="orgs.rebuild_tree_cache")
def rebuild_tree_cache(self: TrackedTask) -> dict[str, Any]:
    """Recompute the cached org tree shown on the org page."""
    self.progress(5, _("开始重建组织树缓存"))
    return services.rebuild_tree_cache(progress=self.progress)
