from typing import Any

from django.http import HttpRequest

from qc_core.system.nav import items_for


def platform(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_sections": []}
    return {"nav_sections": items_for(user)}
