"""Celery tasks of the licensing area (thin: ids in, service call, retry policy)."""

from . import (
    delivery,  # noqa: F401
    maintenance,  # noqa: F401
)
