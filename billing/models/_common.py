"""Field options and constraint helpers the billing models share."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

PERCENT = {"max_digits": 5, "decimal_places": 2, "default": 0}
MONEY = {"max_digits": 12, "decimal_places": 2}
HALF_CENT = models.Value(Decimal("0.005"), output_field=models.DecimalField(max_digits=4, decimal_places=3))


def _percent_0_100(field: str) -> Q:
    return Q(**{f"{field}__gte": 0}) & Q(**{f"{field}__lte": 100})
