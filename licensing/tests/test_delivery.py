"""Delivery notes (Lieferscheine, ORD-2): creation, PDF, e-mail, resend, admin."""

from __future__ import annotations

import smtplib
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from licensing.models import DeliveryNote, License, ModuleVersion, Price, Product
from licensing.selectors.delivery import DOCUMENT_TIMEZONE, delivery_note_context
from licensing.services import delivery as delivery_service
from licensing.services.delivery import (
    DeliveryNoteError,
    delivery_note_create,
    delivery_note_render,
    delivery_note_resend,
)
from licensing.tasks.delivery import render_and_send_delivery_note
from licensing.tests.factories import CustomerFactory, InstallationFactory, PartnerFactory, UserFactory, make_license
from vendorportal.errors import PortalError
from vendorportal.models import DocumentSequence, OutboxMessage
from vendorportal.outbox import outbox_send

pytestmark = pytest.mark.django_db

SERVER_KEY = "ABCDE-12345-FGHIJ-67890"
SECONDARY_KEY = "ABCDE-12345-FGHIJ-67891"


# --- helpers ---------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def squeezed(text: str) -> str:
    """Text without any whitespace: a key printed over several lines reads as one."""
    return "".join(text.split())


def one_spaced(text: str) -> str:
    return " ".join(text.split())


def send_due() -> int:
    """What a worker does with every queued outbox row; returns the number sent."""
    return sum(
        outbox_send(message_id=pk)
        for pk in OutboxMessage.objects.filter(sent_at__isnull=True).values_list("pk", flat=True)
    )


def stored_bytes(note: DeliveryNote) -> bytes:
    with note.pdf.open("rb") as handle:
        return handle.read()


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Stored PDFs go to a per-test directory, never into var/media.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def partner():
    return PartnerFactory(
        company="Muster Telekom GmbH",
        street="Hauptstraße 5",
        postal_code="70173",
        city="Stuttgart",
        delivery_email="lieferung@muster-telekom.test",
    )


@pytest.fixture
def installation(partner):
    customer = CustomerFactory(
        partner=partner,
        company="Bäckerei Sonnenschein KG",
        street="Marktplatz 1",
        postal_code="72622",
        city="Nürtingen",
    )
    return InstallationFactory(
        customer=customer, identifier=SERVER_KEY, edition="appliance", pbx_version="9.0.1", pbx_users=100
    )


@pytest.fixture
def adsync(catalog):
    return ModuleVersion.objects.create(
        product=Product.objects.get(article="ADSYNC"), version="3.2", released_on=date(2024, 1, 10)
    )


@pytest.fixture
def callrec(catalog):
    return ModuleVersion.objects.create(
        product=Product.objects.get(article="CALLREC"), version="5.4", released_on=date(2024, 6, 3)
    )


@pytest.fixture
def license_(installation, adsync):
    return make_license(installation, adsync)


@pytest.fixture
def note(installation, license_):
    return delivery_note_create(installation=installation, licenses=[license_])


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


# --- the PDF -----------------------------------------------------------------------------


def test_pdf_shows_key_server_key_module_and_version_but_no_price(note, license_):
    # The catalog price this licence was sold at exists (seed 001: ADSYNC 81-150, 1.299,00 €) …
    assert Price.objects.filter(product__article="ADSYNC", tier="81-150", kind="purchase", amount="1299.00").exists()

    delivery_note_render(note=note)

    text = pdf_text(stored_bytes(note))
    assert license_.key in squeezed(text)
    assert SERVER_KEY in text
    assert "Active Directory Synchronisation" in text
    assert "Lizenzierte Version 3.2" in one_spaced(text)
    assert f"Lieferschein {note.number}" in text
    assert "Serverlizenz- und Modullizenzschlüssel gehören immer zusammen" in one_spaced(text)
    assert "Muster Telekom GmbH" in text and "Bäckerei Sonnenschein KG" in text
    assert "STARFACE Appliance" in text and "9.0.1" in text
    # … but a delivery note never shows a price (ORD-2).
    for money in ["€", "EUR", "1.299,00", "1299,00", "1299.00", "Preis"]:
        assert money not in text


def test_pdf_of_demo_key_shows_expiry(installation, callrec):
    lic = make_license(
        installation, callrec, kind=License.DEMO, tier="", user_limit=None, valid_until=date(2026, 12, 20)
    )
    note = delivery_note_create(installation=installation, licenses=[lic])

    delivery_note_render(note=note)

    text = one_spaced(pdf_text(stored_bytes(note)))
    assert "gültig bis 20.12.2026" in text
    assert "Demo-Schlüssel für Call Recording läuft am 20.12.2026 ab" in text
    assert lic.key in squeezed(text)


def test_stored_pdf_is_not_rendered_again(note, monkeypatch):
    delivery_note_render(note=note)
    name, data = note.pdf.name, stored_bytes(note)
    assert name == f"delivery-notes/{note.created_at:%Y}/{note.number}.pdf"
    assert data.startswith(b"%PDF")

    def must_not_render(*args, **kwargs):
        raise AssertionError("the stored delivery note was rendered again")

    monkeypatch.setattr(delivery_service, "render_pdf", must_not_render)
    delivery_note_render(note=DeliveryNote.objects.get(pk=note.pk))

    note.refresh_from_db()
    assert note.pdf.name == name
    assert stored_bytes(note) == data


def test_render_that_lost_the_race_does_not_replace_the_stored_pdf(note, monkeypatch):
    """Two workers: both saw no PDF, both rendered; the second must keep the first's file."""
    delivery_note_render(note=note)
    name, data = note.pdf.name, stored_bytes(note)
    monkeypatch.setattr(delivery_service, "_stored_pdf_name", lambda pk: "")  # the second worker's stale check
    monkeypatch.setattr(delivery_service, "render_pdf", lambda *a, **k: b"%PDF-other")

    delivery_note_render(note=DeliveryNote.objects.get(pk=note.pk))

    note.refresh_from_db()
    assert (note.pdf.name, stored_bytes(note)) == (name, data)
    assert [p.name for p in Path(note.pdf.path).parent.iterdir()] == [f"{note.number}.pdf"]


def test_redundancy_key_on_secondary_installation_lists_both_server_keys(installation, adsync):
    secondary = InstallationFactory(customer=installation.customer, identifier=SECONDARY_KEY, secondary_of=installation)
    lic = make_license(installation, adsync, also=[secondary])

    note = delivery_note_create(installation=secondary, licenses=[lic])
    delivery_note_render(note=note)

    text = pdf_text(stored_bytes(note))
    assert SERVER_KEY in text and SECONDARY_KEY in text
    context = delivery_note_context(note)
    assert [b["identifier"] for b in context["licenses"][0]["bindings"]] == [SECONDARY_KEY, SERVER_KEY]
    assert context["installation"]["redundancy"] == f"Sekundäranlage (Redundanz) zu {SERVER_KEY}"


def test_context_labels_hardware_id_of_free_edition(partner, callrec):
    free = InstallationFactory(
        customer=CustomerFactory(partner=partner),
        vendor="starface",
        edition="free",
        identifier_kind="hardware_id",
        identifier="00:1A:2B:3C:4D:5E",
        pbx_version="",
    )
    lic = make_license(free, callrec, tier="", user_limit=None)
    context = delivery_note_context(delivery_note_create(installation=free, licenses=[lic]))
    assert context["installation"]["identifier_label"] == "Hardware-ID"
    assert context["installation"]["pbx_version"] == "nicht angegeben"
    assert context["licenses"][0]["user_limit"] == "unbegrenzt"
    assert context["licenses"][0]["bindings"] == [{"label": "Hardware-ID", "identifier": "00:1A:2B:3C:4D:5E"}]


# --- creation, numbering, validation ---------------------------------------------------------


def test_numbers_are_consecutive_per_year(installation, adsync):
    year = timezone.localdate(timezone=DOCUMENT_TIMEZONE).year
    first = delivery_note_create(installation=installation, licenses=[make_license(installation, adsync)])
    # a second purchase key of ADSYNC on this installation is refused (ORD-6): a goodwill key
    second = delivery_note_create(
        installation=installation, licenses=[make_license(installation, adsync, kind=License.GOODWILL)]
    )
    assert (first.number, second.number) == (f"LS-{year}-00001", f"LS-{year}-00002")


def test_number_and_date_follow_german_new_year(installation, license_, monkeypatch):
    # 31.12.2026 23:30 UTC is already 01.01.2027 00:30 in Germany.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 31, 23, 30, tzinfo=UTC))
    note = delivery_note_create(installation=installation, licenses=[license_])
    assert note.number == "LS-2027-00001"
    assert delivery_note_context(note)["note"]["date"] == "01.01.2027"


def test_create_links_licences_and_defaults_to_partner_delivery_email(note, license_, partner):
    assert note.recipient_email == partner.delivery_email
    assert list(note.licenses.all()) == [license_]
    assert (note.send_count, note.sent_at, bool(note.pdf)) == (0, None, False)


def test_partner_may_have_keys_delivered_to_its_end_customer(installation, license_):
    note = delivery_note_create(installation=installation, licenses=[license_], recipient_email="  it@baeckerei.test ")
    assert note.recipient_email == "it@baeckerei.test"


@pytest.mark.parametrize(
    "case, message",
    [
        ("no_licenses", "mindestens einen Modullizenzschlüssel"),
        ("foreign_license", "gehört nicht zur Installation ABCDE-12345-FGHIJ-67890"),
        ("bad_email", "„kein-at-zeichen.test“ ist keine gültige E-Mail-Adresse"),
        ("empty_email", "fehlt die Liefer-E-Mail-Adresse"),
        ("revoked", "ist widerrufen"),
    ],
)
def test_bad_input_is_refused_in_german_and_writes_nothing(case, message, installation, adsync, license_):
    delivery_note_create(installation=installation, licenses=[license_])  # LS-…-00001 exists
    sequences_before = list(DocumentSequence.objects.values_list("prefix", "year", "last_number"))
    licenses, email = [make_license(installation, adsync, kind=License.GOODWILL)], None  # one paid key only (ORD-6)
    if case == "no_licenses":
        licenses = []
    elif case == "foreign_license":
        licenses = [license_, make_license(InstallationFactory(), adsync)]
    elif case == "bad_email":
        email = "kein-at-zeichen.test"
    elif case == "empty_email":
        email = ""
    elif case == "revoked":
        License.objects.filter(pk=licenses[0].pk).update(state=License.REVOKED)

    with pytest.raises(DeliveryNoteError) as refused:
        delivery_note_create(installation=installation, licenses=licenses, recipient_email=email)

    assert isinstance(refused.value, PortalError)
    assert message in refused.value.message
    assert DeliveryNote.objects.count() == 1
    assert list(DocumentSequence.objects.values_list("prefix", "year", "last_number")) == sequences_before


# --- queueing, sending, resending -------------------------------------------------------------


def test_nothing_is_sent_before_the_issue_commits(
    installation, license_, mailoutbox, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delivery_note_create(installation=installation, licenses=[license_])
    assert len(callbacks) == 1
    assert mailoutbox == []


def test_create_queues_task_on_commit_which_mails_the_pdf_to_the_partner(
    installation, license_, partner, mailoutbox, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        note = delivery_note_create(installation=installation, licenses=[license_])

    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["lieferung@muster-telekom.test"] == [partner.delivery_email]
    assert (
        message.subject == f"Lieferschein {note.number} – Modullizenz Active Directory Synchronisation für {SERVER_KEY}"
    )
    for fact in [
        "Active Directory Synchronisation",
        "Lizenzierte Version: 3.2",
        f"Serverlizenzschlüssel: {SERVER_KEY}",
        license_.key,
    ]:
        assert fact in message.body
    assert "€" not in message.body
    [(filename, content, mimetype)] = message.attachments
    note.refresh_from_db()
    assert (filename, mimetype) == (f"{note.number}.pdf", "application/pdf")
    assert content == stored_bytes(note)
    assert note.send_count == 1 and note.sent_at is not None
    # The outbox row keeps what was sent (composed from the note when first sent).
    row = OutboxMessage.objects.get()
    assert (row.subject, row.body, row.recipients) == (message.subject, message.body, ["lieferung@muster-telekom.test"])
    assert row.dedup_key == f"delivery-note:{note.pk}:initial" and row.document == note


def test_resend_sends_the_same_pdf_again_and_counts(
    note, mailoutbox, eager, admin_user, django_capture_on_commit_callbacks
):
    assert send_due() == 1
    first_sent_at = DeliveryNote.objects.get(pk=note.pk).sent_at

    with django_capture_on_commit_callbacks(execute=True):
        resend = delivery_note_resend(note=note, by=admin_user)

    note.refresh_from_db()
    assert note.send_count == 2
    assert note.sent_at >= first_sent_at
    assert len(mailoutbox) == 2
    assert mailoutbox[0].attachments[0][1] == mailoutbox[1].attachments[0][1] == stored_bytes(note)
    assert mailoutbox[0].subject == mailoutbox[1].subject
    # Two rows: the first delivery and the resend, each sent once.
    assert sorted(OutboxMessage.objects.values_list("dedup_key", flat=True)) == [
        f"delivery-note:{note.pk}:initial",
        f"delivery-note:{note.pk}:resend-1",
    ]
    assert resend.dedup_key == f"delivery-note:{note.pk}:resend-1"
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0


def test_resend_while_the_first_mail_still_waits_sends_one_mail(
    note, mailoutbox, eager, django_capture_on_commit_callbacks
):
    # The note's first e-mail has not gone out yet (say the worker is down); staff click
    # "resend" twice: the waiting e-mail goes out once, no second row is written.
    with django_capture_on_commit_callbacks(execute=True):
        delivery_note_resend(note=note)
        delivery_note_resend(note=note)

    note.refresh_from_db()
    assert len(mailoutbox) == 1 and note.send_count == 1
    assert list(OutboxMessage.objects.values_list("dedup_key", flat=True)) == [f"delivery-note:{note.pk}:initial"]


def test_resend_of_a_revoked_key_is_refused(note, license_, mailoutbox, eager, django_capture_on_commit_callbacks):
    License.objects.filter(pk=license_.pk).update(state=License.REVOKED)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(DeliveryNoteError) as refused:
        delivery_note_resend(note=note)
    assert f"Lieferschein {note.number} wird nicht erneut gesendet" in refused.value.message
    assert "ist widerrufen" in refused.value.message
    assert callbacks == [] and mailoutbox == []


def test_failed_smtp_send_keeps_pdf_and_count_and_is_retried(installation, license_, monkeypatch, clock, mailoutbox):
    clock.set(datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    note = delivery_note_create(installation=installation, licenses=[license_])

    def smtp_down(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("connection closed")

    with monkeypatch.context() as patched:
        patched.setattr(mail.EmailMessage, "send", smtp_down)
        assert send_due() == 0

    note.refresh_from_db()
    assert bool(note.pdf) and note.send_count == 0 and note.sent_at is None
    row = OutboxMessage.objects.get()
    assert row.attempts == 1
    assert row.last_error == "SMTPServerDisconnected: connection closed"
    assert row.due_at == datetime(2026, 11, 21, 9, 1, tzinfo=UTC)  # first retry after 1 minute
    assert (row.claimed_by, row.claimed_until, row.sent_at) == ("", None, None)

    assert send_due() == 0  # not due yet: nothing is sent before 09:01
    clock.set(datetime(2026, 11, 21, 9, 1, tzinfo=UTC))
    assert send_due() == 1

    note.refresh_from_db()
    assert note.send_count == 1 and len(mailoutbox) == 1
    assert mailoutbox[0].attachments[0][1] == stored_bytes(note)  # the PDF stored at the first try


def test_task_queued_before_the_outbox_existed_sends_once(note, mailoutbox, eager, django_capture_on_commit_callbacks):
    """A broker message of the old task left over after an update: the same outbox row, one e-mail."""
    with django_capture_on_commit_callbacks(execute=True):
        render_and_send_delivery_note(note.pk)
        render_and_send_delivery_note(note.pk)
    assert send_due() == 1
    assert OutboxMessage.objects.count() == 1
    note.refresh_from_db()
    assert note.send_count == 1


def test_license_issue_delivers_its_key(installation, adsync, mailoutbox, eager, django_capture_on_commit_callbacks):
    from licensing.services.licenses import license_issue

    with django_capture_on_commit_callbacks(execute=True):
        lic = license_issue(product=adsync.product, installation=installation, version=adsync)

    note = DeliveryNote.objects.get(licenses=lic)
    assert note.send_count == 1
    assert mailoutbox[0].to == [installation.customer.partner.delivery_email]
    assert lic.key in mailoutbox[0].body
    assert lic.key in squeezed(pdf_text(stored_bytes(note)))


# --- admin --------------------------------------------------------------------------------


def test_staff_downloads_the_stored_pdf(staff_client, note):
    url = reverse("admin:licensing_deliverynote_pdf", args=[note.pk])
    missing = staff_client.get(url)
    assert missing.status_code == 404
    assert f"Das PDF zu Lieferschein {note.number} wurde noch nicht erzeugt" in missing.content.decode()

    delivery_note_render(note=note)
    response = staff_client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{note.number}.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == stored_bytes(note)


def test_non_staff_cannot_download_the_pdf(client, note):
    delivery_note_render(note=note)
    url = reverse("admin:licensing_deliverynote_pdf", args=[note.pk])

    client.force_login(UserFactory(is_staff=False))
    response = client.get(url)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    assert not response.content.startswith(b"%PDF")

    client.force_login(UserFactory(is_staff=True))  # staff, but no permission on delivery notes
    assert client.get(url).status_code == 403


def test_admin_search_finds_note_by_key_fragment_server_key_number_and_partner(
    staff_client, installation, adsync, partner
):
    wanted_license = make_license(installation, adsync)
    wanted = delivery_note_create(installation=installation, licenses=[wanted_license])
    delivery_note_create(installation=(other := InstallationFactory()), licenses=[make_license(other, adsync)])
    url = reverse("admin:licensing_deliverynote_changelist")
    groups = wanted_license.key.split("-")
    fragments = [
        "-".join(groups[10:12]),  # as printed, with a dash
        "".join(groups[10:12]).lower(),  # typed without dashes, lower case
        SERVER_KEY,
        wanted.number,
        "Muster Telekom",
        partner.delivery_email,
    ]
    for term in fragments:
        result = staff_client.get(url, {"q": term}).context["cl"].result_list
        assert list(result) == [wanted], term


def test_admin_is_read_only_and_pages_open(staff_client, note):
    delivery_note_render(note=note)
    changelist = staff_client.get(reverse("admin:licensing_deliverynote_changelist"))
    assert changelist.status_code == 200
    assert "Lieferschein erneut senden" in changelist.content.decode()
    detail = staff_client.get(reverse("admin:licensing_deliverynote_change", args=[note.pk]))
    assert detail.status_code == 200
    assert note.licenses.get().key in detail.content.decode()
    assert staff_client.get(reverse("admin:licensing_deliverynote_add")).status_code == 403
    assert staff_client.post(reverse("admin:licensing_deliverynote_delete", args=[note.pk])).status_code == 403
    assert DeliveryNote.objects.filter(pk=note.pk).exists()


def test_admin_resend_action(client, note, mailoutbox, eager, django_capture_on_commit_callbacks):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_deliverynote"))
    client.force_login(viewer)
    assert send_due() == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:licensing_deliverynote_changelist"),
            {"action": "resend", "_selected_action": [note.pk]},
            follow=True,
        )

    assert "1 Lieferschein wird erneut gesendet." in response.content.decode()
    note.refresh_from_db()
    assert note.send_count == 2 and len(mailoutbox) == 2


def test_admin_resend_action_warns_about_revoked_keys(
    staff_client, note, license_, mailoutbox, eager, django_capture_on_commit_callbacks
):
    License.objects.filter(pk=license_.pk).update(state=License.REVOKED)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:licensing_deliverynote_changelist"),
            {"action": "resend", "_selected_action": [note.pk]},
            follow=True,
        )
    page = response.content.decode()
    assert f"Lieferschein {note.number} wird nicht erneut gesendet" in page
    assert "1 Lieferschein wird erneut gesendet." not in page
    assert mailoutbox == []


# --- layout and wording of the note (issue 8) --------------------------------------------------


def pdf_fonts(data: bytes) -> set[str]:
    """Base font names used on all pages, without the subset prefix (``ABCDEF+DejaVu-Sans`` → ``DejaVu-Sans``)."""
    names = set()
    for page in PdfReader(BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    return names


def free_edition(partner):
    return InstallationFactory(
        customer=CustomerFactory(partner=partner),
        vendor="starface",
        edition="free",
        identifier_kind="hardware_id",
        identifier="3F9A-77C1-D2E4-0B6A",
        pbx_version="8.1.0.3",
    )


def test_note_with_one_key_is_one_page_with_a_sans_serif_footer(note):
    delivery_note_render(note=note)
    data = stored_bytes(note)

    assert len(PdfReader(BytesIO(data)).pages) == 1
    assert "Seite 1 von 1" in pdf_text(data)
    # Body, key block and footer in DejaVu Sans (Mono for keys); no serif fallback anywhere.
    fonts = pdf_fonts(data)
    assert fonts and all(name.startswith("DejaVu-Sans") for name in fonts), fonts


def test_one_key_for_a_redundant_pair_still_fits_one_page(installation, adsync):
    secondary = InstallationFactory(customer=installation.customer, identifier=SECONDARY_KEY, secondary_of=installation)
    lic = make_license(installation, adsync, also=[secondary])
    note = delivery_note_create(installation=installation, licenses=[lic])
    delivery_note_render(note=note)
    assert len(PdfReader(BytesIO(stored_bytes(note))).pages) == 1


def test_server_key_note_says_dem_serverlizenzschluessel(note):
    delivery_note_render(note=note)
    text = one_spaced(pdf_text(stored_bytes(note)))
    assert f"gilt nur für die Anlage mit dem Serverlizenzschlüssel {SERVER_KEY}." in text
    assert (
        "unter „Support-Informationen“ angezeigte Serverlizenzschlüssel mit dem auf diesem Lieferschein übereinstimmt"
        in text
    )
    assert "– nicht den Serverlizenzschlüssel." in text


def test_free_edition_note_speaks_of_the_hardware_id(partner, callrec):
    free = free_edition(partner)
    lic = make_license(free, callrec, tier="", user_limit=None)
    note = delivery_note_create(installation=free, licenses=[lic])
    delivery_note_render(note=note)
    data = stored_bytes(note)
    text = one_spaced(pdf_text(data))

    assert "Hardware-ID und Modullizenzschlüssel gehören immer zusammen." in text
    assert "gilt nur für die Anlage mit der Hardware-ID 3F9A-77C1-D2E4-0B6A." in text
    assert (
        "im Console-Log der STARFACE (Admin/Server/Log-Datei) angezeigte Hardware-ID mit der auf diesem Lieferschein übereinstimmt"
        in text
    )
    assert "– nicht die Hardware-ID." in text
    # A Free Edition has no server key: the note never asks to compare one, nor says "dem Hardware-ID".
    assert "Serverlizenzschlüssel" not in text
    assert "dem Hardware-ID" not in text
    assert len(PdfReader(BytesIO(data)).pages) == 1


def test_outbox_admin_refuses_to_resend_a_note_whose_key_was_revoked(staff_client, note, license_, mailoutbox):
    assert send_due() == 1
    License.objects.filter(pk=license_.pk).update(state=License.REVOKED)
    row = OutboxMessage.objects.get()

    response = staff_client.post(
        reverse("admin:vendorportal_outboxmessage_changelist"),
        {"action": "resend", "_selected_action": [row.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert f"Lieferschein {note.number} wird nicht erneut gesendet" in page and "ist widerrufen" in page
    assert OutboxMessage.objects.count() == 1 and send_due() == 0 and len(mailoutbox) == 1
