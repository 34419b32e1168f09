"""Django's SMTP backend with the server's certificate checked against ``EMAIL_CA_FILE``
when one is set (a mail relay with a certificate of a private CA), else against the
system's CAs as Django does (STYLE 20). ``EMAIL_URL`` picks it for every ``smtp…://``."""

from __future__ import annotations

import ssl

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend as DjangoSmtpBackend
from django.utils.functional import cached_property


class EmailBackend(DjangoSmtpBackend):
    @cached_property
    def ssl_context(self):
        context = ssl.create_default_context(cafile=getattr(settings, "EMAIL_CA_FILE", "") or None)
        if self.ssl_certfile or self.ssl_keyfile:  # a client certificate, as Django allows
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context
