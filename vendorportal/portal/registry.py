"""What the apps contribute to the portal shell: navigation entries and dashboard panels.

An app registers in its ``AppConfig.ready``::

    registry.nav_add(url_name="portal:systems", label=_("Auerswald-Systeme"), order=30)
    registry.panel_add(key="installations", template="portal/panels/installations.html",
                       context=installations_panel, order=20)

``context(request, partner)`` returns the panel's template context (a dict) or None to
leave the panel out for this partner. The shell renders entries and panels by ``order``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    url_name: str
    label: str
    order: int = 50
    admin_only: bool = False  # shown to the partner's administrators only
    section: str = "main"  # "main": the main menu; "account": beside the login's name (settings of the partner account)


@dataclass(frozen=True)
class Panel:
    key: str
    template: str
    context: Callable
    order: int = 50


_nav: dict[str, NavEntry] = {}
_panels: dict[str, Panel] = {}


def nav_add(*, url_name: str, label: str, order: int = 50, admin_only: bool = False, section: str = "main") -> None:
    if section not in ("main", "account"):
        raise ValueError(f"unknown navigation section {section!r}")
    _nav[url_name] = NavEntry(url_name=url_name, label=label, order=order, admin_only=admin_only, section=section)


def panel_add(*, key: str, template: str, context: Callable, order: int = 50) -> None:
    _panels[key] = Panel(key=key, template=template, context=context, order=order)


def nav_entries() -> list[NavEntry]:
    return sorted(_nav.values(), key=lambda e: (e.order, e.url_name))


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda p: (p.order, p.key))
