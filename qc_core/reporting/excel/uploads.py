"""Where uploaded workbooks wait between the preview and the commit (and for background jobs):
the default storage under ``excel_imports/``; files older than a day are purged."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from qc_core.system import clock

FOLDER = "excel_imports"
KEEP = timedelta(days=1)


def save_upload(data: bytes) -> str:
    """Store ``data``; returns the storage name (random, never the user's file name)."""
    purge_stale()
    return default_storage.save(f"{FOLDER}/{uuid.uuid4().hex}.xlsx", ContentFile(data))


def load_upload(name: str) -> bytes:
    if not name.startswith(f"{FOLDER}/") or ".." in name:
        raise FileNotFoundError(name)
    with default_storage.open(name, "rb") as handle:
        return handle.read()


def delete_upload(name: str) -> None:
    if name.startswith(f"{FOLDER}/") and default_storage.exists(name):
        default_storage.delete(name)


def purge_stale() -> None:
    """Delete uploads left behind by previews that were never committed."""
    try:
        _dirs, files = default_storage.listdir(FOLDER)
    except (FileNotFoundError, NotImplementedError, OSError):
        return
    limit = clock.now() - KEEP
    for name in files:
        path = f"{FOLDER}/{name}"
        try:
            if default_storage.get_modified_time(path) < limit:
                default_storage.delete(path)
        except (OSError, NotImplementedError):
            continue
