"""Errors raised by the reporting services (messages in Chinese, for users)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import pgettext


class ReportingError(Exception):
    """Base: ``message`` is shown to the user as is."""

    code = "reporting_error"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class WorkflowError(ReportingError):
    """The action does not fit the submission's current state."""

    code = "workflow_conflict"


class NotEditable(WorkflowError):
    """Values cannot be changed now (approved, under review, window locked or not yet open)."""

    code = "not_editable"


class ConflictError(WorkflowError):
    """Someone else saved the form since the caller loaded it (optimistic locking)."""

    code = "edit_conflict"

    def __init__(self, message: str, current_version: int) -> None:
        super().__init__(message)
        self.current_version = current_version


class InputError(ReportingError):
    """Malformed input; ``errors`` is ``[{indicator, field, message}]``. Nothing was saved."""

    code = "invalid"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__(pgettext("list separator", "；").join(str(e["message"]) for e in errors))


class SubmitBlocked(WorkflowError):
    """Submission refused: errors, or warnings without a justification, remain."""

    code = "validation_failed"

    def __init__(self, results: list[dict[str, Any]], blockers: list[dict[str, Any]]) -> None:
        self.results = results
        self.blockers = blockers
        errors = sum(1 for r in blockers if r["severity"] == "error")
        warnings = len(blockers) - errors
        from django.utils.translation import gettext as _

        super().__init__(
            _("存在 %(e)d 个错误、%(w)d 个未填写情况说明的警告，暂不能上报。")
            % {"e": errors, "w": warnings}
        )
