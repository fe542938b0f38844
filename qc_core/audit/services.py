"""Placeholder: replaced by the audit implementation."""


def record_download(request, name, obj=None):  # type: ignore[no-untyped-def]
    return None
