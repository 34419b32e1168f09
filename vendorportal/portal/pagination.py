"""One page of a portal list: the lists stay fast and bounded whatever a partner holds."""

from __future__ import annotations

from django.core.paginator import Paginator

PER_PAGE = 50


def paginate(request, queryset, per_page: int = PER_PAGE):
    """The page ``?seite=N`` of ``queryset``; a missing, wrong or too large number gives
    the first or last page instead of an error (Paginator.get_page)."""
    return Paginator(queryset, per_page).get_page(request.GET.get("seite"))
