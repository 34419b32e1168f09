from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo data for ``make run`` (``load_demo``). It sits above every other app: it may
    import them all, and none imports it (STYLE 1)."""

    name = "demo"
    verbose_name = _("Demodaten")
