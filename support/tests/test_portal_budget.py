"""Query budget of support's portal pages (issue 12): with 200+ rows — tickets, the
messages of one ticket with their files, knowledge-base articles with tags — each page
runs at most 15 SQL queries; and the dashboard with every area's panel full stays within
15 too (support reads the other areas, so the all-panels check lives here)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from billing.models import Invoice
from licensing.models import License, Product
from licensing.tests.factories import book, make_delivery_note, make_license, make_system, module_version
from support import rules
from support.models import Article, Attachment, Tag, Ticket, TicketMessage
from support.tests.factories import CustomerFactory, InstallationFactory, PartnerUserFactory, make_facts, make_plan
from vendorportal.portal.testing import BUDGET_ROWS

pytestmark = pytest.mark.django_db
ROWS = BUDGET_ROWS + 10
NOW = datetime(2026, 11, 19, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
STATUSES = [rules.NEW, rules.OPEN, rules.WAITING, rules.SOLVED, rules.CLOSED]


@pytest.fixture
def login(client, modules, clock):
    clock.set(NOW)
    login = PartnerUserFactory(role="admin", user__email="technik@partner.test")
    client.force_login(login.user)
    return login


def bulk_tickets(login, n: int, **fields) -> list[Ticket]:
    """``n`` tickets of ``login``'s partner, each with its own customer and installation
    (every status in turn, every third with an Enterprise SLA due), made in bulk."""
    product = Product.objects.get(article="CALLREC")
    installations = [InstallationFactory(customer=CustomerFactory(partner=login.partner)) for _ in range(n)]
    return Ticket.objects.bulk_create(
        Ticket(
            number=f"T-2026-{i + 1:05d}",
            partner=login.partner,
            customer=inst.customer,
            installation=inst,
            product=product,
            pbx_version="8.2.0.5",
            module_version="2.1",
            subject=f"Ticket {i + 1}",
            status=STATUSES[i % len(STATUSES)],
            received_at=NOW - timedelta(hours=i),
            sla_due_at=NOW + timedelta(days=1) if i % 3 == 0 else None,
            created_by=login.user,
            **fields,
        )
        for i, inst in enumerate(installations)
    )


def test_ticket_list_with_210_tickets(login, portal_query_budget):
    bulk_tickets(login, ROWS)
    page = portal_query_budget(reverse("portal:support_tickets")).content.decode()
    # The list shows at most 200 tickets, newest first: T-2026-00001 … T-2026-00200.
    assert "T-2026-00001" in page and "T-2026-00200" in page and "T-2026-00201" not in page
    page = portal_query_budget(reverse("portal:support_tickets") + "?status=waiting").content.decode()
    # Every fifth ticket waits (i = 2, 7, …, 207): 42 of 210.
    assert page.count("<td>wartet auf Kunde</td>") == 42


def test_ticket_detail_with_210_messages_and_their_files(login, portal_query_budget):
    ticket = bulk_tickets(login, 1)[0]
    staff = PartnerUserFactory().user  # any user stands in as author; staff flag is not read here
    messages = TicketMessage.objects.bulk_create(
        TicketMessage(
            ticket=ticket,
            author=staff if i % 2 else login.user,
            author_email="" if i % 2 else "technik@partner.test",
            from_staff=bool(i % 2),
            body=f"Nachricht {i + 1}",
            created_at=NOW + timedelta(minutes=i),
        )
        for i in range(ROWS)
    )
    TicketMessage.objects.create(
        ticket=ticket, from_staff=True, internal=True, body="INTERNE NOTIZ", created_at=NOW + timedelta(days=1)
    )
    Attachment.objects.bulk_create(
        Attachment(
            ticket=ticket,
            message=message if i < ROWS else None,
            file=f"tickets/{ticket.pk}/f{i}.log",
            filename=f"datei-{i + 1}.log",
            content_type="text/plain",
            size=2048,
            is_log=True,
            created_at=NOW,
        )
        for i, message in enumerate([*messages, *messages[:5]])
    )
    make_facts(ticket.customer, dpa=date(2026, 1, 1))
    page = portal_query_budget(reverse("portal:support_ticket", args=[ticket.pk])).content.decode()
    assert page.count('<article class="message') == ROWS and "INTERNE NOTIZ" not in page
    assert "Nachricht 210" in page and "datei-210.log" in page and "datei-215.log" in page
    assert page.count("(2,0\xa0KB)") == ROWS


def test_knowledge_base_with_210_articles_and_their_tags(login, portal_query_budget):
    tags = Tag.objects.bulk_create(Tag(name=f"Schlagwort {i}") for i in range(4))
    articles = Article.objects.bulk_create(
        Article(
            title=f"Artikel {i + 1:03d}",
            slug=f"artikel-{i + 1:03d}",
            body="Text",
            visibility=Article.INTERNAL if i % 7 == 0 else Article.PUBLIC,
        )
        for i in range(ROWS)
    )
    Article.tags.through.objects.bulk_create(
        Article.tags.through(article=a, tag=t) for i, a in enumerate(articles) for t in tags[: i % 4 + 1]
    )
    page = portal_query_budget(reverse("portal:support_kb")).content.decode()
    # Without a contract only the public ones: 210 − 30 internal (i = 0, 7, …, 203) = 180.
    assert page.count('href="/portal/wissen/artikel-') == 180
    # With a service contract the internal ones too.
    make_facts(CustomerFactory(partner=login.partner), contract_until=date(2027, 12, 31))
    page = portal_query_budget(reverse("portal:support_kb")).content.decode()
    assert page.count('href="/portal/wissen/artikel-') == ROWS and page.count("(intern)") == 30
    portal_query_budget(reverse("portal:support_kb") + "?tag=Schlagwort+3&q=Artikel")
    portal_query_budget(reverse("portal:support_article", args=["artikel-002"]))


def test_new_ticket_forms_with_210_installations(login, portal_query_budget):
    bulk_tickets(login, ROWS)
    for url_name in ("support_ticket_new", "support_bug_report", "support_feature_request"):
        page = portal_query_budget(reverse(f"portal:{url_name}")).content.decode()
        assert page.count("<option") >= ROWS


def test_dashboard_with_every_panel_full(login, portal_query_budget):
    """210 customers with an installation, a demo key running out and a delivery note,
    210 Auerswald systems whose Softwarepflege runs out, 210 open invoices, 210 tickets
    (42 waiting for the partner) — the dashboard stays within 15 queries."""
    partner = login.partner
    version = module_version()
    today = NOW.date()
    for n in range(ROWS):
        customer = CustomerFactory(partner=partner)
        inst = InstallationFactory(customer=customer)
        lic = make_license(inst, version, kind=License.DEMO, valid_until=today + timedelta(days=n % 30))
        make_delivery_note(inst, [lic])
        system = make_system(customer=customer)
        book(system, start=date(2025, 12, 1), end=today + timedelta(days=n % 60), users=5)
    Invoice.objects.bulk_create(
        Invoice(
            number=f"RE-2026-{i + 1:06d}",
            issue_date=date(2026, 11, 1),
            issued_at="2026-11-01T10:00:00Z",
            partner=partner,
            buyer_name=partner.company,
            buyer_country="DE",
            email="rechnung@partner.test",
            vat_category="S",
            net_total=Decimal("100.00"),
            vat_total=Decimal("19.00"),
            gross_total=Decimal("119.00"),
            due_date=date(2026, 11, 15) if i % 2 else date(2026, 12, 1),
            state=Invoice.OVERDUE if i % 2 else Invoice.OPEN,
        )
        for i in range(ROWS)
    )
    tickets = bulk_tickets(login, ROWS)
    make_plan(tickets[0].installation, "enterprise")
    page = portal_query_budget(reverse("portal:dashboard")).content.decode()
    assert "Tickets, die auf Sie warten" in page
    # Ten of the 42 waiting tickets, newest first: i = 2, 7, …, 47 → T-2026-00003 … T-2026-00048.
    assert "T-2026-00003" in page and "T-2026-00048" in page and "T-2026-00053" not in page
    # 105 open + 105 overdue invoices of 119,00 € each: 24.990,00 € due.
    assert "24.990,00 €" in page
