"""Reading inbound mail (support.mailtext): pure functions, no database."""

from __future__ import annotations

import email
from email import policy

import pytest

from support.mailtext import BodyText, automatic_reason, body_text, decode_bytes, html_to_text


def parse(raw: str | bytes):
    if isinstance(raw, str):
        raw = raw.replace("\n", "\r\n").encode("utf-8")
    return email.message_from_bytes(raw, policy=policy.default)


HEAD = "From: Technik <technik@partner.test>\nTo: support@vendor.example\nSubject: Frage\n"


@pytest.mark.parametrize(
    "headers,reason",
    [
        ("Auto-Submitted: auto-replied\n", "Auto-Submitted: auto-replied"),
        ("Auto-Submitted: Auto-Generated; owner-email=x@y.test\n", "Auto-Submitted: auto-generated"),
        ("X-Autoreply: yes\n", "X-Autoreply: yes"),
        ("Return-Path: <>\n", "Return-Path: <>"),
        ("Precedence: bulk\n", "Precedence: bulk"),
        ("Precedence: JUNK\n", "Precedence: junk"),
        ("Precedence: list\n", "Precedence: list"),
        ("List-Id: Partner-News <news.partner.test>\n", "List-Id"),
        ("List-Unsubscribe: <mailto:leave@partner.test>\n", "List-Unsubscribe"),
        ("Sender: MAILER-DAEMON@mx.partner.test\n", "Sender: MAILER-DAEMON@mx.partner.test"),
    ],
)
def test_machine_mail_is_recognised(headers, reason):
    assert automatic_reason(parse(HEAD + headers + "\nText\n")) == reason


@pytest.mark.parametrize(
    "headers",
    [
        "",
        "Auto-Submitted: no\n",
        "Precedence: normal\n",
        "Return-Path: <technik@partner.test>\n",
        "In-Reply-To: <abc@vendor.example>\n",
    ],
)
def test_a_persons_mail_is_not_automatic(headers):
    assert automatic_reason(parse(HEAD + headers + "\nText\n")) == ""


def test_bounce_is_recognised_by_sender_and_by_report():
    bounce = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.partner.test>\nTo: support@vendor.example\n"
        "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nDie Nachricht konnte nicht zugestellt werden.\n"
        "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.partner.test\n\n"
        "Final-Recipient: rfc822; alt@partner.test\nAction: failed\nStatus: 5.1.1\n--b--\n"
    )
    assert automatic_reason(parse(bounce)) == "multipart/report (delivery-status)"
    postmaster = "From: postmaster@partner.test\nTo: support@vendor.example\nSubject: Zustellung\n\nText\n"
    assert automatic_reason(parse(postmaster)) == "From: postmaster@partner.test"


def test_unknown_charset_falls_back_instead_of_dropping_the_mail():
    raw = (
        b"From: a@partner.test\r\nSubject: x\r\nContent-Type: text/plain; charset=x-mac-klingon\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nGr\xfc\xdfe, die Lizenz kostet 12 \x80.\r\n"
    )
    # not UTF-8, so Windows-1252: ü ß and the euro sign at 0x80
    assert body_text(parse(raw)).text == "Grüße, die Lizenz kostet 12 €."


def test_a_lying_charset_is_read_as_what_it_is():
    assert decode_bytes("Grüße".encode(), "us-ascii") == "Grüße"  # declared ASCII, sent UTF-8
    assert decode_bytes(b"\x81\x8d\x8f", "utf-8") == "\x81\x8d\x8f"  # no codec fits: Latin-1, never fails


def test_html_only_mail_becomes_readable_text():
    html = (
        "<html><head><style>p { color: red; } .x{}</style><title>Mail</title>"
        "<script>alert('x')</script></head><body>"
        "<p>Guten&nbsp;Tag,</p><p>das Modul &quot;ADSYNC&quot; meldet &lt;Fehler 42&gt; &amp; h&auml;ngt.<br>"
        "Zweite Zeile</p><ul><li>Punkt&#160;1</li><li>Punkt 2</li></ul>"
        "<table><tr><td>PBX</td><td>8.2.0.5</td></tr></table></body></html>"
    )
    raw = HEAD + "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n" + html + "\n"
    text = body_text(parse(raw)).text
    assert text == (
        'Guten Tag,\n\ndas Modul "ADSYNC" meldet <Fehler 42> & hängt.\nZweite Zeile\n\nPunkt 1\nPunkt 2\n\nPBX 8.2.0.5'
    )
    assert "color" not in text and "alert" not in text and "&" + "amp;" not in text


def test_plain_part_is_preferred_over_html():
    raw = (
        HEAD + 'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="a"\n\n'
        "--a\nContent-Type: text/plain; charset=utf-8\n\nKlartext\n"
        "--a\nContent-Type: text/html; charset=utf-8\n\n<p>HTML</p>\n--a--\n"
    )
    assert body_text(parse(raw)) == BodyText("Klartext", broken="")


def test_multipart_with_a_wrong_boundary_keeps_its_text_and_says_it_is_broken():
    raw = (
        HEAD + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="richtig"\n\n'
        "--falsch\nContent-Type: text/plain; charset=utf-8\n\nDas Modul hängt seit dem Update.\n--falsch--\n"
    )
    result = body_text(parse(raw))
    assert result.text == "Das Modul hängt seit dem Update."
    assert "StartBoundaryNotFoundDefect" in result.broken


def test_html_to_text_survives_broken_markup():
    assert (
        html_to_text("<p>offen <b>fett <i>kursiv</p> Ende &unknown; &#x41;") == "offen fett kursiv\n\nEnde &unknown; A"
    )


def test_an_empty_plain_part_beside_the_html_one_reads_the_html():
    raw = (
        HEAD + 'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="a"\n\n'
        "--a\nContent-Type: text/plain; charset=utf-8\n\n \n"
        "--a\nContent-Type: text/html; charset=utf-8\n\n<p>Nur im HTML</p>\n--a--\n"
    )
    assert body_text(parse(raw)).text == "Nur im HTML"
