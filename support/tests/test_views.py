"""Portal pages of the support desk over HTTP: tickets, attachments (only staff and the
ticket's partner), the knowledge base, bug report / feature request, the dashboard panel."""

import uuid
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from licensing.models import Product
from support import services
from support.knowledge import faq_load
from support.models import Article, Ticket
from support.tests.factories import CustomerFactory, InstallationFactory, PartnerUserFactory, make_facts, make_plan
from vendorportal import roles
from vendorportal.parties.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def login():
    return PartnerUserFactory(user__email="technik@partner.test")


@pytest.fixture
def product(modules):
    return Product.objects.filter(kind="module").order_by("article").first()


def make_ticket(login, product, files=(), installation=None, kind="support"):
    return services.ticket_open(
        partner=login.partner,
        by=login.user,
        kind=kind,
        subject="Hintergrundbilder fehlen",
        body="Seit dem Update fehlen die Bilder.",
        installation=installation,
        pbx_version="8.2.0.5",
        product=product,
        module_version="2.1",
        files=list(files),
    )


def staff(group_name):
    user = UserFactory(username=f"staff-{group_name}", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def test_new_ticket_with_attachment_and_versions(client, login, product):
    client.force_login(login.user)
    installation = InstallationFactory(customer=CustomerFactory(partner=login.partner))
    response = client.post(
        reverse("portal:support_ticket_new"),
        {
            "token": uuid.uuid4().hex,
            "installation": installation.pk,
            "urgency": "high",
            "subject": "Modul startet nicht",
            "pbx_version": "8.2.0.5",
            "product": product.pk,
            "module_version": "2.1",
            "body": "Fehler beim Start",
            "files": [SimpleUploadedFile("screenshot.png", b"\x89PNG....", content_type="image/png")],
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == reverse("portal:support_ticket", args=[ticket.pk])
    assert (ticket.urgency, ticket.customer, ticket.attachments.get().filename) == (
        "high",
        installation.customer,
        "screenshot.png",
    )
    page = client.get(response.url).content.decode()
    assert "Modul startet nicht" in page and "screenshot.png" in page


def test_new_ticket_without_versions_shows_german_errors(client, login, product):
    client.force_login(login.user)
    response = client.post(
        reverse("portal:support_ticket_new"),
        {"token": uuid.uuid4().hex, "subject": "Hilfe", "body": "x", "urgency": "low"},
    )
    assert response.status_code == 200 and not Ticket.objects.exists()
    assert "Dieses Feld ist zwingend erforderlich." in response.content.decode()


def test_unknown_module_version_is_refused(client, login, product):
    client.force_login(login.user)
    response = client.post(
        reverse("portal:support_ticket_new"),
        {
            "token": uuid.uuid4().hex,
            "subject": "x",
            "body": "x",
            "urgency": "low",
            "pbx_version": "8.2.0.5",
            "product": product.pk,
            "module_version": "9.9",
        },
    )
    assert response.status_code == 200 and "Version 9.9" in response.content.decode()


def test_forbidden_attachment_type_is_a_form_error(client, login, product):
    client.force_login(login.user)
    ticket = make_ticket(login, product)
    response = client.post(
        reverse("portal:support_ticket", args=[ticket.pk]),
        {"body": "Anbei", "files": [SimpleUploadedFile("virus.exe", b"MZ")]},
    )
    assert response.status_code == 200 and "nehmen wir nicht an" in response.content.decode()
    assert ticket.messages.count() == 1


def test_reply_and_sla_shown_for_enterprise(client, login, product, clock):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    installation = InstallationFactory(customer=CustomerFactory(partner=login.partner))
    make_plan(installation, "enterprise")
    clock.set(datetime(2026, 11, 19, 16, 0, tzinfo=ZoneInfo("Europe/Berlin")))
    ticket = make_ticket(login, product, installation=installation)
    client.force_login(login.user)
    page = client.get(reverse("portal:support_ticket", args=[ticket.pk])).content.decode()
    assert "Antwort bis" in page and "25.11.2026 09:30" in page
    url = reverse("portal:support_ticket", args=[ticket.pk])
    reply = {"token": "reply-token-1", "body": "Noch eine Info"}
    response = client.post(url, reply)
    assert response.status_code == 302 and ticket.messages.count() == 2
    # The same reply form posted twice (a double click, a reload) stores one message.
    assert client.post(url, reply).status_code == 302 and ticket.messages.count() == 2
    # A new form (new token) is a new reply; a form without its token is refused and changes nothing.
    assert client.post(url, {"token": "reply-token-2", "body": "Und noch etwas"}).status_code == 302
    assert ticket.messages.count() == 3
    page = client.post(url, {"body": "ohne Token"}).content.decode()
    assert "Das Formular ist abgelaufen" in page and ticket.messages.count() == 3


def test_internal_notes_are_not_shown_to_the_partner(client, login, product):
    ticket = make_ticket(login, product)
    services.ticket_reply(
        ticket=ticket, by=UserFactory(is_staff=True), body="GEHEIM-NOTIZ", from_staff=True, internal=True
    )
    client.force_login(login.user)
    assert "GEHEIM-NOTIZ" not in client.get(reverse("portal:support_ticket", args=[ticket.pk])).content.decode()


# --- attachments: only staff and the ticket's partner -----------------------------------


@pytest.fixture
def ticket_with_files(login, product):
    customer = CustomerFactory(partner=login.partner)
    ticket = make_ticket(
        login,
        product,
        installation=InstallationFactory(customer=customer),
        files=[SimpleUploadedFile("modul.log", b"LOGDATA"), SimpleUploadedFile("bild.png", b"PNGDATA")],
    )
    log, image = ticket.attachments.order_by("filename").reverse()
    return ticket, log, image


def test_partner_downloads_its_own_attachment(client, login, ticket_with_files):
    ticket, log, image = ticket_with_files
    client.force_login(login.user)
    response = client.get(reverse("portal:support_attachment", args=[ticket.pk, image.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"PNGDATA"
    assert "attachment" in response["Content-Disposition"]


def test_other_partner_gets_404_anonymous_goes_to_login(client, ticket_with_files):
    ticket, log, image = ticket_with_files
    url = reverse("portal:support_attachment", args=[ticket.pk, image.pk])
    response = client.get(url)
    assert response.status_code == 302 and reverse("portal:login") in response.url
    client.force_login(PartnerUserFactory().user)
    assert client.get(url).status_code == 404
    assert client.get(reverse("portal:support_ticket", args=[ticket.pk])).status_code == 404


def test_attachment_under_another_ticket_id_is_404(client, login, product, ticket_with_files):
    ticket, log, image = ticket_with_files
    other = make_ticket(login, product)
    client.force_login(login.user)
    assert client.get(reverse("portal:support_attachment", args=[other.pk, image.pk])).status_code == 404


def test_files_are_not_reachable_under_media(client, ticket_with_files, admin_user):
    ticket, log, image = ticket_with_files
    client.force_login(admin_user)
    assert client.get(f"/media/{image.file.name}").status_code == 404


@pytest.mark.parametrize("group_name,status", [(roles.SUPPORT, 200), (roles.SALES, 403), (roles.FINANCE, 403)])
def test_staff_download_needs_the_support_right(client, ticket_with_files, group_name, status):
    ticket, log, image = ticket_with_files
    client.force_login(staff(group_name))
    response = client.get(reverse("admin:support_ticket_attachment", args=[ticket.pk, image.pk]))
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == b"PNGDATA"


def test_partner_login_cannot_use_the_staff_download(client, login, ticket_with_files):
    ticket, log, image = ticket_with_files
    client.force_login(login.user)
    response = client.get(reverse("admin:support_ticket_attachment", args=[ticket.pk, image.pk]))
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_log_file_without_dpa_is_locked_for_staff_until_a_dpa_date(client, ticket_with_files, clock):
    clock.set(date(2026, 11, 21))
    ticket, log, image = ticket_with_files
    client.force_login(staff(roles.SUPPORT))
    url = reverse("admin:support_ticket_attachment", args=[ticket.pk, log.pk])
    response = client.get(url)
    assert response.status_code == 403 and "kein AV-Vertrag" in response.content.decode()
    page = client.get(reverse("admin:support_ticket_change", args=[ticket.pk])).content.decode()
    assert "gesperrt: kein AV-Vertrag" in page
    partner_login = PartnerUserFactory(partner=ticket.partner)
    client.force_login(partner_login.user)
    assert "kein AV-Vertrag vor" in client.get(reverse("portal:support_ticket", args=[ticket.pk])).content.decode()
    make_facts(ticket.customer, dpa=date(2026, 11, 20))
    assert "kein AV-Vertrag vor" not in client.get(reverse("portal:support_ticket", args=[ticket.pk])).content.decode()
    client.force_login(Group.objects.get(name=roles.SUPPORT).user_set.get())
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"LOGDATA"


# --- bug report, feature request --------------------------------------------------------


def test_bug_report_form_needs_versions_feature_request_does_not(client, login, product):
    client.force_login(login.user)
    response = client.post(
        reverse("portal:support_bug_report"),
        {"token": uuid.uuid4().hex, "subject": "Absturz", "body": "x", "urgency": "high"},
    )
    assert response.status_code == 200 and not Ticket.objects.exists()
    response = client.post(
        reverse("portal:support_feature_request"),
        {"token": uuid.uuid4().hex, "subject": "Dunkelmodus", "body": "Bitte"},
    )
    assert response.status_code == 302
    assert Ticket.objects.get().kind == "feature"


# --- knowledge base ---------------------------------------------------------------------


def test_faq_is_loaded_once_and_searchable(client, login):
    assert faq_load() == 45 and faq_load() == 0
    client.force_login(login.user)
    page = client.get(reverse("portal:support_kb"), {"q": "Hintergrundbilder"}).content.decode()
    assert "Warum werden meine hochgeladenen Hintergrundbilder nicht übernommen?" in page
    page = client.get(reverse("portal:support_kb"), {"q": "NoSuchMethodError"}).content.decode()
    assert "java.lang.NoSuchMethodError" in page
    article = Article.objects.get(slug="faq-nosuchmethoderror-nach-starface-update")
    page = client.get(reverse("portal:support_article", args=[article.slug])).content.decode()
    assert "<pre><code>" in page and "Das installierte Modul ist nicht kompatibel" in page
    assert Article.objects.filter(title__contains="Wie werden Fluxpunkt Module für STARFACE lizenziert").exists()


def test_knowledge_base_search_puts_the_best_match_first(client, login):
    # Issue 21: ordered by relevance, not by title. "Anrufweiterleitung einrichten" has both
    # words in its title (2 × 10 + phrase 20 = 40); "Zentrale Anrufweiterleitung" one word in the
    # title, the other in the text (10 + 1 + 1 = 12); the tagged article both words only through its
    # tag and text (5 + 1 + 1 = 7); "Ablauf" names them only in its text (1 + 1 = 2).
    from support.models import Tag

    Article.objects.create(title="Ablauf", slug="ablauf", body="Anrufweiterleitung einrichten: siehe Handbuch.")
    tagged = Article.objects.create(title="Büro", slug="buero", body="Anrufweiterleitung einrichten im Büro.")
    tagged.tags.add(Tag.objects.create(name="Anrufweiterleitung"))
    Article.objects.create(
        title="Zentrale Anrufweiterleitung", slug="zentrale", body="Anrufweiterleitung einrichten für alle."
    )
    Article.objects.create(title="Anrufweiterleitung einrichten", slug="einrichten", body="Schritt für Schritt.")
    Article.objects.create(title="Anrufbeantworter", slug="ab", body="Ansage aufnehmen.")
    client.force_login(login.user)
    page = client.get(reverse("portal:support_kb"), {"q": "anrufweiterleitung einrichten"}).content.decode()
    found = [slug for slug in ("einrichten", "zentrale", "buero", "ablauf", "ab") if f"/portal/wissen/{slug}/" in page]
    assert found == ["einrichten", "zentrale", "buero", "ablauf"]
    positions = [page.index(f"/portal/wissen/{slug}/") for slug in found]
    assert positions == sorted(positions)


def test_internal_articles_only_for_partners_with_a_contract(client, login, clock):
    clock.set(date(2026, 11, 21))
    Article.objects.create(title="Öffentlich", slug="oeffentlich", body="a")
    Article.objects.create(title="Interna", slug="interna", body="b", visibility="internal")
    client.force_login(login.user)
    page = client.get(reverse("portal:support_kb")).content.decode()
    assert "Öffentlich" in page and "Interna" not in page
    assert client.get(reverse("portal:support_article", args=["interna"])).status_code == 404
    make_facts(CustomerFactory(partner=login.partner), contract_until=date(2026, 12, 31))
    assert "Interna" in client.get(reverse("portal:support_kb")).content.decode()
    assert client.get(reverse("portal:support_article", args=["interna"])).status_code == 200


def test_markdown_is_rendered_safely(client, login):
    Article.objects.create(
        title="Test",
        slug="test",
        body='**fett** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror="alert(1)">',
    )
    client.force_login(login.user)
    page = client.get(reverse("portal:support_article", args=["test"])).content.decode()
    assert "<strong>fett</strong>" in page
    assert "<script>alert" not in page and "javascript:" not in page and "onerror" not in page


# --- lists and dashboard ----------------------------------------------------------------


def test_ticket_list_shows_only_own_tickets(client, login, product):
    mine = make_ticket(login, product)
    other = make_ticket(PartnerUserFactory(), product)
    Ticket.objects.filter(pk=other.pk).update(subject="FREMDES TICKET")
    client.force_login(login.user)
    page = client.get(reverse("portal:support_tickets")).content.decode()
    assert mine.number in page and "FREMDES TICKET" not in page


def test_dashboard_panel_lists_tickets_waiting_for_the_partner(client, login, product):
    ticket = make_ticket(login, product)
    services.ticket_set_status(ticket=ticket, status="waiting")
    client.force_login(login.user)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "Tickets, die auf Sie warten" in page and ticket.number in page


def test_ticket_list_query_count_is_bounded(client, login, product, django_assert_max_num_queries):
    for _ in range(30):
        make_ticket(login, product)
    client.force_login(login.user)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("portal:support_tickets")).status_code == 200
