"""Display helpers of billing's portal pages: money in the reader's format (``1.299,00 €`` / ``€1,299.00``)."""

from django import template

from vendorportal.money import format_eur

register = template.Library()


@register.filter
def eur(value) -> str:
    return "—" if value is None or value == "" else format_eur(value)
