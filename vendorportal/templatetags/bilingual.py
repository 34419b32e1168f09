"""German beside the English on invoices (issue 21, docs/i18n.md).

``{% german "Rechnungs-Nr." %}`` prints `` / Rechnungs-Nr.`` in a ``lang="de"`` span when the
document is rendered in another language than German, and nothing on a German document. Used
for the labels of the mandatory content of an invoice (§ 14 Abs. 4 UStG), so a German tax
auditor reads every English invoice without a translation (§ 87 AO).
"""

from django import template
from django.utils import translation
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def german(text) -> str:
    if (translation.get_language() or "de").split("-")[0] == "de" or not text:
        return ""
    return format_html('<span lang="de" class="german"> / {}</span>', text)
