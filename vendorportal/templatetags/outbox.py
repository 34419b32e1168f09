"""Admin index notice about e-mails that keep failing (STYLE 13)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def outbox_failing_count(context) -> int:
    """Number of unsent e-mails that failed often enough to be flagged; 0 for staff
    who may not see the outbox (the notice is not theirs to act on)."""
    from vendorportal.outbox import outbox_failing

    request = context.get("request")
    if request is None or not request.user.has_perm("vendorportal.view_outboxmessage"):
        return 0
    return outbox_failing().count()
