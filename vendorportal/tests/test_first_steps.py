"""What a new user stumbled over (issue 21): counts read as German ("1 Rechnung", not
"1 Rechnungen"), the admin's logout leads back to the admin's login, commands print no
stray warnings, ticket times are Berlin times, and ``make run`` tells the workers the
address the portal is served on (links in e-mails)."""

from __future__ import annotations

import ast
import logging
import os
import re
import subprocess
from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from kombu import Connection

from billing.models import Invoice
from billing.services.invoicing import InvoicingResult
from support.models import Ticket, TicketMessage
from vendorportal.documents import CheckResult
from vendorportal.parties.tests.factories import PartnerFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "invoices,periods,extra,expected",
    [
        (1, 1, 1, "Abrechnung 01/2027: 1 Rechnung, 1 Abrechnungszeitraum, 1 weitere Position, netto"),
        (2, 6, 0, "Abrechnung 01/2027: 2 Rechnungen, 6 Abrechnungszeiträume, 0 weitere Positionen, netto"),
    ],
)
def test_the_invoicing_summary_counts_in_german(invoices, periods, extra, expected):
    result = InvoicingResult(
        month=date(2027, 1, 1),
        invoices=[Invoice(net_total=D("10.00"), gross_total=D("11.90"))] * invoices,
        periods=periods,
        source_lines=extra,
    )
    assert result.summary().startswith(expected)


def test_the_document_check_counts_in_german():
    assert CheckResult(checked=1).summary() == "1 Dokument geprüft: vorhanden und unverändert."
    assert CheckResult(checked=2).summary() == "2 Dokumente geprüft: alle vorhanden und unverändert."


@pytest.mark.django_db
def test_the_admins_logout_returns_to_the_admin_login(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(reverse("admin:logout"))
    assert response.status_code == 302 and response.url == reverse("admin:login")
    assert "_auth_user_id" not in client.session


def test_the_default_broker_names_its_host(caplog, tmp_path):
    # "No hostname was supplied. Reverting to default 'localhost'" came with every command
    # that queues a task (issue_license, load_demo). The embedded default broker (a CI pass with
    # CELERY_BROKER_URL set to Redis checks the same default, not its own broker).
    if "CELERY_BROKER_URL" not in os.environ:
        assert settings.CELERY_BROKER_URL == "filesystem://localhost/"
    folders = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with caplog.at_level(logging.WARNING, logger="kombu"):
        with Connection("filesystem://localhost/", transport_options=folders) as conn:
            conn.info()
    assert "No hostname was supplied" not in caplog.text


@pytest.mark.django_db
def test_a_ticket_messages_time_is_berlin_time():
    ticket = Ticket.objects.create(
        number="T-2026-00001",
        partner=PartnerFactory(),
        subject="Ansage",
        received_at=datetime(2026, 7, 1, 13, 5, tzinfo=ZoneInfo("UTC")),
    )
    message = TicketMessage(ticket=ticket, body="…", created_at=datetime(2026, 7, 1, 13, 5, tzinfo=ZoneInfo("UTC")))
    assert str(message) == "T-2026-00001 · 01.07.2026 15:05"  # summer time: UTC + 2 h


def test_make_run_sends_links_to_the_port_it_serves():
    out = subprocess.run(
        ["make", "-n", "run", "PORT=9000"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    honcho = next(line for line in out.splitlines() if "honcho start" in line)
    assert "PORTAL_BASE_URL=${PORTAL_BASE_URL:-http://127.0.0.1:9000}" in honcho


@pytest.mark.django_db
def test_a_member_sees_why_it_cannot_order_and_whom_to_ask(client):
    from vendorportal.parties.tests.factories import PartnerUserFactory

    admin = PartnerUserFactory(role="admin", user__first_name="Erika", user__last_name="Muster")
    member = PartnerUserFactory(role="member", partner=admin.partner)
    client.force_login(member.user)
    page = client.get(reverse("portal:orders")).content.decode()
    assert "Neue Bestellung" not in page
    assert "Bestellen, Kündigen und Zugänge verwalten können nur die Administratoren Ihres Partnerkontos." in page
    assert "Bitte wenden Sie sich an: Erika Muster." in page
    refused = client.get(reverse("portal:order_new"))
    assert refused.status_code == 403 and "Bitte wenden Sie sich an: Erika Muster." in refused.content.decode()


@pytest.mark.parametrize(
    "typed,stored",
    [("96,50", "96.50"), ("1.299,50 €", "1299.50"), ("12,5", "12.50"), ("12.50", "12.50"), ("96", "96.00")],
)
def test_admin_money_fields_read_german_amounts(typed, stored):
    from django.contrib import admin

    from support.models import HourlyRate

    form_class = admin.site._registry[HourlyRate].get_form(None)
    field = form_class.base_fields["amount"]
    assert field.clean(typed) == D(stored)
    assert 'inputmode="decimal"' in field.widget.render("amount", D("96.50"))
    assert 'value="96,50"' in field.widget.render("amount", D("96.50"))


def test_a_dot_is_never_dropped_silently():
    from vendorportal.form_fields import GermanDecimalField

    field = GermanDecimalField(max_digits=12, decimal_places=2)
    with pytest.raises(Exception, match="2 Dezimalstellen"):
        field.clean("1.234")  # 1.234 € is no amount; "1.234,00" or "1234" is


RULE_ID = re.compile(r"\b(?:ORD|CAT|SUB|SUP|LIC|SWP|SYS|INV|GEN)-\d+")
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext"}


def _partner_facing_sources():
    """Python modules whose texts reach partners: everything but the staff's admin, the
    commands, the models' field labels and help texts (admin forms) and the tests."""
    for app in ("billing", "licensing", "support", "vendorportal", "api"):
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = set(path.relative_to(ROOT).parts)
            if parts & {"tests", "migrations", "management", "models"} or path.name.startswith("admin"):
                continue
            if path.name in ("models.py", "settings.py"):
                continue
            yield path


def test_no_rule_ids_in_what_partners_read():
    # Issue 21: "(ORD-6)", "CAT-2", "(SUB-8)" meant nothing to a partner. The IDs stay in code
    # comments and docstrings (RULES.md) and in staff texts; not in portal pages or messages.
    found = []
    for path in _partner_facing_sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in GETTEXT:
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and RULE_ID.search(arg.value):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {arg.value[:80]}")
    for path in sorted((ROOT / "templates" / "portal").rglob("*.html")):
        text = re.sub(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", "", path.read_text(), flags=re.S)
        found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in RULE_ID.finditer(text)]
    assert found == []
