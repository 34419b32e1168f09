"""Integer lookups that never hand the database a number its column cannot hold (issue 17).

Django (5.0+) already turns ``id=<huge>`` on an integer column into "no rows" instead of an
error (``IntegerFieldOverflow``), but not ``id__in=[<huge>]`` (a ModelMultipleChoiceField,
the admin's ``_selected_action``) nor a foreign key compared with a raw value
(``partner=<huge>`` from an admin list's query string). SQLite then raises
``OverflowError: Python int too large to convert to SQLite INTEGER``; a 500 for a typo.

A value outside the column's range can never equal a stored value, so dropping it from an
``IN`` list, or answering "no rows" for ``=``, gives exactly the rows the query asks for —
on every database. Registered once for every integer and foreign-key column
(``VendorPortalConfig.ready``), so forms, admin, selectors and services are all covered
without a check at each call site.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import ForeignObject, IntegerField
from django.db.models.fields.related_lookups import RelatedExact, RelatedIn
from django.db.models.lookups import In


def _column_range(field, connection) -> tuple[int | None, int | None]:
    """The (min, max) an integer column holds; (None, None) where that is unknown."""
    target = getattr(field, "target_field", None) or field  # a foreign key stores its target's type
    try:
        return connection.ops.integer_field_range(target.get_internal_type())
    except KeyError:  # not an integer column (a foreign key to a text key)
        return None, None


def _fits(value, low, high) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return True  # not ours to judge; the database or the field's get_prep_value decides
    return (low is None or value >= low) and (high is None or value <= high)


def _is_integer_column(lhs) -> bool:
    field = getattr(lhs, "output_field", None)
    target = getattr(field, "target_field", None) or field  # a foreign key stores its target's type
    try:
        return target.get_internal_type() in BaseDatabaseOperations.integer_field_ranges
    except AttributeError:  # several columns (a composite key) or no field
        return False


def _is_number(value) -> bool:
    """Whether an integer column could hold ``value`` at all (an int, or text of one)."""
    if value is None or isinstance(value, int) or hasattr(value, "resolve_expression") or hasattr(value, "_meta"):
        return True  # None is dropped by IN itself; expressions and model instances are Django's
    try:
        int(str(value).strip())
    except ValueError:
        return False
    return True


class _DropOutOfRange:
    """For ``IN``: values the column cannot hold — text that is no number (the admin's
    autocomplete widget re-rendering a form posted with garbage asks ``pk__in=["abc"]``),
    numbers out of range — are left out; none left → no rows."""

    def get_prep_lookup(self):
        if _is_integer_column(self.lhs) and self.rhs_is_direct_value() and not isinstance(self.rhs, str):
            try:
                values = list(self.rhs)
            except TypeError:
                values = None
            if values is not None and not all(_is_number(v) for v in values):
                self.rhs = [v for v in values if _is_number(v)]
        return super().get_prep_lookup()

    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = _column_range(self.lhs.output_field, connection)
            if low is not None or high is not None:
                values = list(self.rhs)
                kept = [v for v in values if _fits(v, low, high)]
                if len(kept) != len(values):
                    if not [v for v in kept if v is not None]:
                        raise EmptyResultSet
                    self.rhs = kept
        return super().process_rhs(compiler, connection)


class IntegerFieldIn(_DropOutOfRange, In):
    lookup_name = "in"


class RangeCheckedRelatedIn(_DropOutOfRange, RelatedIn):
    lookup_name = "in"


class RangeCheckedRelatedExact(RelatedExact):
    lookup_name = "exact"

    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = _column_range(self.lhs.output_field, connection)
            if not _fits(self.rhs, low, high):
                raise EmptyResultSet
        return super().process_rhs(compiler, connection)


def register() -> None:
    IntegerField.register_lookup(IntegerFieldIn)
    ForeignObject.register_lookup(RangeCheckedRelatedIn)
    ForeignObject.register_lookup(RangeCheckedRelatedExact)
