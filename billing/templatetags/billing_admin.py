"""Admin index alert of the billing area: the base rate of the current half-year is missing (issue 18)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def base_rate_stale_alert(context):
    """The newest base rate entered (or ``False`` when none), when it is older than the current
    half-year; ``None`` when all is well or for staff who cannot enter one (finance can)."""
    from billing import rules
    from billing.models import BaseRate
    from vendorportal import clock

    request = context.get("request")
    if request is None or not request.user.has_perm("billing.add_baserate"):
        return None
    # One query on every admin start page: the newest rate decides and is what is shown.
    newest = BaseRate.objects.order_by("-valid_from").first()
    if not rules.base_rate_stale(newest.valid_from if newest else None, clock.today()):
        return None
    return newest or False
