"""``EMAIL_URL`` to Django's e-mail settings (read by settings.py; no Django import here).

django-environ knows ``smtp+tls://`` (STARTTLS) and ``smtp+ssl://`` (implicit TLS, port
465) but puts the query form ``smtp://…?tls=1`` into ``OPTIONS``, which Django's SMTP
backend ignores — the mail would go out without TLS. The query form is read here as the
scheme form, and the SMTP backend is the one that honours ``EMAIL_CA_FILE``.
"""

from __future__ import annotations

import environ

DJANGO_SMTP = "django.core.mail.backends.smtp.EmailBackend"
OUR_SMTP = "vendorportal.mail_backend.EmailBackend"
_FLAGS = {"tls": "EMAIL_USE_TLS", "starttls": "EMAIL_USE_TLS", "ssl": "EMAIL_USE_SSL"}


def email_url_settings(url: str) -> dict:
    config = environ.Env.email_url_config(url)
    options = {str(key).lower(): value for key, value in config.pop("OPTIONS", {}).items()}
    for flag, setting in _FLAGS.items():
        if str(options.pop(flag, "")).lower() in ("1", "true", "yes", "on"):
            config[setting] = True
    if options:
        config["OPTIONS"] = options
    if config.get("EMAIL_USE_TLS") and config.get("EMAIL_USE_SSL"):
        raise ValueError("EMAIL_URL: either STARTTLS (tls) or implicit TLS (ssl), not both")
    if config.get("EMAIL_BACKEND") == DJANGO_SMTP:
        config["EMAIL_BACKEND"] = OUR_SMTP
    return config
