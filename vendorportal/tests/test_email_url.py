"""EMAIL_URL forms a mail administrator writes (docs/mail.md): each ends with TLS as meant."""

import pytest

from vendorportal.email_url import email_url_settings


@pytest.mark.parametrize(
    "url,tls,ssl,port",
    [
        ("smtp+tls://portal%40vendor.example:geheim@mail.example.com:587", True, False, 587),
        ("smtp://portal%40vendor.example:geheim@mail.example.com:587?tls=1", True, False, 587),
        ("smtp://portal%40vendor.example:geheim@mail.example.com:587?starttls=true", True, False, 587),
        ("smtp+ssl://portal%40vendor.example:geheim@mail.example.com:465", False, True, 465),
        ("smtp://portal%40vendor.example:geheim@mail.example.com:465?ssl=1", False, True, 465),
        ("smtp://relay.internal:25", False, False, 25),
    ],
)
def test_every_documented_form_sets_the_tls_django_uses(url, tls, ssl, port):
    config = email_url_settings(url)
    assert (bool(config.get("EMAIL_USE_TLS")), bool(config.get("EMAIL_USE_SSL")), config["EMAIL_PORT"]) == (
        tls,
        ssl,
        port,
    )
    assert config["EMAIL_BACKEND"] == "vendorportal.mail_backend.EmailBackend"  # honours EMAIL_CA_FILE
    assert "OPTIONS" not in config  # nothing left that Django would silently ignore
    if "portal" in url:
        assert (config["EMAIL_HOST_USER"], config["EMAIL_HOST_PASSWORD"]) == ("portal@vendor.example", "geheim")


def test_starttls_and_implicit_tls_at_once_is_refused():
    with pytest.raises(ValueError):
        email_url_settings("smtp+ssl://mail.example.com:465?tls=1")
