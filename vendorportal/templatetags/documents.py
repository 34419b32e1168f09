"""Admin index alert: issued documents the last check found missing or changed (GoBD)."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def documents_check_alert(context):
    """The last document check's problem lines (``JobRun``), or ``None`` when it was clean.
    Every staff member sees it: a lost invoice is everybody's business."""
    from vendorportal.documents import last_check_problems

    request = context.get("request")
    if request is None or not request.user.is_staff:
        return None
    run = last_check_problems()
    if run is None:
        return None
    lines = run.summary.splitlines()
    return {"run": run, "headline": lines[0] if lines else "", "items": [line[2:] for line in lines[1:]]}
