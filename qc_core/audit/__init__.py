"""The audit trail: change, access and export records in a tamper-evident hash chain.

``qc_core.audit.register(Model, ...)`` tracks a model's changes (see :mod:`.registry`);
``qc_core.audit.services.record`` writes any other entry.
"""

from typing import Any


def register(model: Any, **options: Any) -> None:
    """Track ``model``'s create/update/delete in the audit trail (see ``registry.register``)."""
    from qc_core.audit.registry import register as _register

    _register(model, **options)
