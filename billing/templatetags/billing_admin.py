"""Admin index alert of the billing area: the base rate of the current half-year is missing (issue 18)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def base_rate_stale_alert(context):
    """The newest base rate entered (or ``False`` when none), when it is older than the current
    half-year; ``None`` when all is well or for staff who cannot enter one (finance can)."""
    from billing.models import BaseRate
    from billing.services.dunning import base_rate_stale
    from vendorportal import clock

    request = context.get("request")
    if request is None or not request.user.has_perm("billing.add_baserate"):
        return None
    if not base_rate_stale(clock.today()):
        return None
    return BaseRate.objects.order_by("-valid_from").first() or False
