"""Settings of the vendor portal, read from the environment with django-environ.

Embedded default (nothing set): SQLite under ``var/``, Celery over kombu's
filesystem transport under ``var/celery/``, outgoing mail as files in ``var/mail/``,
the licence signing key generated into ``var/keys/``.
Production: set ``DATABASE_URL`` (PostgreSQL), ``CELERY_BROKER_URL`` (Redis),
``EMAIL_URL`` (SMTP), ``SECRET_KEY``, ``DEBUG=0``, ``ALLOWED_HOSTS`` and
``LICENSE_SIGNING_KEY_FILE``; behind a TLS proxy also ``HTTPS=1`` (see docs/security.md).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from kombu import Exchange, Queue

from vendorportal.email_url import email_url_settings

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _embedded_secret_key() -> str:
    """A per-machine secret for the embedded default, kept in var/ so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _embedded_secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "vendorportal.apps.VendorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "vendorportal.security.apps.AxesConfig",  # django-axes
    "csp",
    "django_otp",
    "vendorportal.security.apps.TotpConfig",  # django_otp.plugins.otp_totp
    "vendorportal.apps.VendorPortalConfig",
    "vendorportal.parties.apps.PartiesConfig",
    "vendorportal.webhooks.apps.WebhooksConfig",  # webhook events, below the areas that emit them (issue 19)
    "vendorportal.portal.apps.PortalConfig",
    "vendorportal.security.apps.SecurityConfig",
    "licensing.apps.LicensingConfig",
    "billing.apps.BillingConfig",
    "support.apps.SupportConfig",
    "ninja",  # django-ninja's own static files (the API docs, no CDN)
    "api.apps.ApiConfig",  # the partner API (issue 19), above licensing, billing and support
    "cockpit.apps.CockpitConfig",  # the staff cockpit (issue 20): figures over every app, no models
    "demo.apps.DemoConfig",  # above every app: load_demo
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # NUL bytes in path, query or form: a German 400 before any view (issue 17).
    "vendorportal.input_guard.RejectNulBytesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # The login's language, else the switch's cookie, else German (issue 21, docs/i18n.md);
    # in place of Django's LocaleMiddleware, which would follow the browser's Accept-Language.
    "vendorportal.i18n.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "vendorportal.security.middleware.StaffOtpPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so it turns the lockout flag of a login attempt into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "vendorportal.urls"
WSGI_APPLICATION = "vendorportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "vendorportal.portal.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file: WAL lets readers run beside the
    # writer, IMMEDIATE transactions take the write lock up front instead of
    # failing half-way with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": env.str("SQLITE_TEST_NAME", default=str(VAR_DIR / "test_db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out user+IP before any password is checked. It
# needs the request, so every authenticate() call must pass one (tests: request=HttpRequest()).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "portal:login"
# Absolute address of the portal, for links in e-mails sent outside a request (invitations).
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# --- Logins and transport (docs/security.md) -------------------------------------
# Lockout (django-axes): 5 failed logins of one user name from one IP address lock
# that pair for an hour; the portal and the admin share the counter. A correct
# login resets it; a superuser unlocks early by deleting the access attempt in the admin.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(hours=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "vendorportal.security.views.lockout_response"
AXES_CLIENT_IP_CALLABLE = "vendorportal.security.client_ip.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
# Name under which the authenticator app lists the account (two-factor login for staff).
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Lizenzportal")

# Behind a TLS-terminating proxy: HTTPS=1. The proxy must set X-Forwarded-Proto and
# append the client address to X-Forwarded-For (TRUSTED_PROXIES = how many proxies
# append to it; the lockout counts per client address, not per proxy).
HTTPS = env.bool("HTTPS", default=False)
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=1 if HTTPS else 0)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 365 * 24 * 60 * 60
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_PRELOAD = env.bool("HSTS_PRELOAD", default=False)
    if not SECURE_HSTS_PRELOAD:
        # security.W021 asks for the HSTS "preload" directive. Browsers only preload a
        # registrable domain whose apex sends it; the portal runs on a sub-domain, and
        # preloading commits every host of the vendor's domain to HTTPS for good, a
        # decision for whoever runs that domain (HSTS_PRELOAD=1), not a default here.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Content-Security-Policy on every response, with or without HTTPS: only our own
# scripts, styles and images, no inline code, no framing, forms post only to us.
# Django's admin (5.2) works under it: its scripts are files that read data-* attributes;
# the few inline styles left (a change list without actions, simple_history's paginator)
# are cosmetic and simply ignored by the browser. PDFs are rendered server-side by
# WeasyPrint, where no CSP applies.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
        "form-action": [CSP_SELF],
    },
}

# --- Language, time -----------------------------------------------------------
LANGUAGE_CODE = "de"
LANGUAGES = [("de", "Deutsch"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Display formats per language (|date:"SHORT_DATE_FORMAT"): German 06.12.2026, English 6 Dec 2026.
FORMAT_MODULE_PATH = ["vendorportal.locale_formats"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Stored documents (invoices, credit notes, delivery notes, reports, uploaded proofs) live
# in MEDIA_ROOT, which nothing serves: no URL pattern, no WhiteNoise root, and a web server
# in front must not map it either. The default storage's url() is the checked staff
# download (vendorportal.stored_files); partners use the portal's download views.
STORAGES = {
    "default": {"BACKEND": "vendorportal.stored_files.ProtectedFileStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# The portal's price list PDF, rendered once per version (vendorportal.pdf.render_pdf_cached).
PRICE_LIST_CACHE_DIR = env.str("PRICE_LIST_CACHE_DIR", default=str(VAR_DIR / "cache" / "price-lists"))
MEDIA_URL = "media/"  # served by nothing (see STORAGES); kept because Django expects it
# Larger than Django's default so a scanned decommissioning proof fits.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Mail ----------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    # smtp+tls://…:587 or smtp://…:587?tls=1 (STARTTLS), smtp+ssl://…:465 (implicit TLS),
    # smtp://…:25 (plain); docs/mail.md.
    vars().update(email_url_settings(env.str("EMAIL_URL")))
else:
    EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
    EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Lizenzportal <lizenzen@vendor.example>")
FINANCE_EMAIL = env.str("FINANCE_EMAIL", default="buchhaltung@vendor.example")
# Who gets the finance reports (invoice journal, open items): comma-separated in the
# environment, e.g. FINANCE_EMAILS=buchhaltung@…,steuerberatung@…; defaults to FINANCE_EMAIL.
FINANCE_EMAILS = env.list("FINANCE_EMAILS", default=[FINANCE_EMAIL])

# DATEV export for the tax adviser (billing/datev.py, docs/finance.md). Consultant and client
# number come from the tax adviser; the demo values are DATEV's own sample numbers. The
# accounts are SKR03 defaults the tax adviser confirms. DATEV_RECIPIENTS also get the monthly
# journal e-mail with the DATEV files attached.
DATEV_CONSULTANT_NUMBER = env.int("DATEV_CONSULTANT_NUMBER", default=1001)  # Beraternummer
DATEV_CLIENT_NUMBER = env.int("DATEV_CLIENT_NUMBER", default=1)  # Mandantennummer
DATEV_FISCAL_YEAR_START_MONTH = env.int("DATEV_FISCAL_YEAR_START_MONTH", default=1)
DATEV_ACCOUNT_LENGTH = env.int("DATEV_ACCOUNT_LENGTH", default=4)  # Sachkontenlänge
DATEV_ACCOUNTS = {
    "domestic": env.int("DATEV_ACCOUNT_REVENUE_19", default=8400),  # Erlöse 19 % USt (automatic account)
    "eu_reverse_charge": env.int("DATEV_ACCOUNT_REVENUE_EU_RC", default=8336),  # § 13b, other EU country
    "not_taxable": env.int("DATEV_ACCOUNT_REVENUE_NOT_TAXABLE", default=8338),  # non-EU, not taxable here
    "bank": env.int("DATEV_ACCOUNT_BANK", default=1200),
    # Charges (Nebenforderungen, issue 18) are damages, not revenue and not a supply: never on a
    # revenue account that feeds the VAT return. SKR03 2742 "Versicherungsentschädigungen und
    # Schadenersatzleistungen" — to be confirmed by the tax adviser.
    "charges": env.int("DATEV_ACCOUNT_CHARGES", default=2742),
}
DATEV_RECIPIENTS = env.list("DATEV_RECIPIENTS", default=[])

# Partner API (issue 19): requests a minute per token; the counters live in the default cache
# (per process in the embedded default: set a shared cache such as Redis for several web
# processes).
API_RATE_LIMIT = env.str("API_RATE_LIMIT", default="600/m")
# Webhooks (issue 19, vendorportal/webhooks/netguard.py): short timeouts (seconds); the claim
# on a delivery outlasts both. WEBHOOK_ALLOW_LOOPBACK lets webhooks reach 127.0.0.1/::1 over
# plain http — for tests only, never in production (private, link-local … stay refused).
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10.0)
WEBHOOK_CLAIM_SECONDS = env.int("WEBHOOK_CLAIM_SECONDS", default=60)
WEBHOOK_ALLOW_LOOPBACK = env.bool("WEBHOOK_ALLOW_LOOPBACK", default=False)

# The SMTP server's certificate is verified (STARTTLS and implicit TLS) against the system's
# CAs, or against this CA file (PEM) for a relay with a certificate of a private CA.
EMAIL_CA_FILE = env.str("EMAIL_CA_FILE", default="")
# An SMTP server that hangs must not outlast the outbox claim below.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=60)
# How long a worker's claim on an outbox e-mail holds (seconds); after that the
# periodic job treats the worker as dead and queues the e-mail again (STYLE 13).
OUTBOX_CLAIM_SECONDS = env.int("OUTBOX_CLAIM_SECONDS", default=600)

# --- Celery --------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The filesystem transport ignores the host, but kombu warns "No hostname was supplied"
    # on every connection of a URL without one (each command that queues a task printed it).
    if CELERY_BROKER_URL.rstrip("/") == "filesystem:":
        CELERY_BROKER_URL = "filesystem://localhost/"
    _queue = VAR_DIR / "celery" / "queue"
    _processed = VAR_DIR / "celery" / "processed"
    _control = VAR_DIR / "celery" / "control"
    for _dir in (_queue, _processed, _control):
        _dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue),
        "data_folder_out": str(_queue),
        "processed_folder": str(_processed),
        "control_folder": str(_control),
        "store_processed": False,
    }
# Redis: a message a worker took but never acknowledged (the worker was killed) goes to another
# worker after this many seconds. Longer than any task runs (invoicing one partner: seconds),
# short enough that a killed worker's invoicing tasks come back within minutes. A task retried
# with a countdown longer than this may run twice; every task here is idempotent.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=600)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
        # Sweep for such messages every 10 × 3 s (kombu's default: every 100 s).
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 3,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Slow outside work has its own queue (STYLE 20): reading the support mailbox runs on
# "mail-in", consumed by its own worker (Procfile "mailin"), so a mail server that hangs
# never holds the worker that sends e-mail, PDFs and invoices ("celery", the default queue).
# Both queues are declared, so a worker started without -Q still consumes both (nothing
# stops silently on an upgrade); the Procfile and the production docs start one worker
# per queue (-Q celery / -Q mail-in).
MAIL_IN_QUEUE = "mail-in"
CELERY_TASK_DEFAULT_QUEUE = "celery"
# Each queue with its own exchange and routing key: a queue declared by name only is bound
# to the default exchange with the key "celery", and every task would reach both queues.
WEBHOOKS_QUEUE = "webhooks"  # partners' receivers: slow outside work, own worker (Procfile "webhooks")
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name), routing_key=name) for name in ("celery", MAIL_IN_QUEUE, WEBHOOKS_QUEUE)
)
CELERY_TASK_ROUTES = {
    "support.tasks.fetch_support_mail": {"queue": MAIL_IN_QUEUE},
    "vendorportal.webhooks.tasks.webhook_deliver": {"queue": WEBHOOKS_QUEUE},
}
# Every periodic job, in one place (STYLE 6). Times are Europe/Berlin (CELERY_TIMEZONE).
# Staff read this table with its recipients in the admin (Betrieb → Zeitplan der Jobs,
# vendorportal.schedule); a new job adds an entry here and, if it e-mails, its
# recipients' setting to JOB_RECIPIENTS.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {
        "task": "vendorportal.tasks.heartbeat",
        "schedule": crontab(minute="*/15"),
    },
    "webhooks-dispatch": {  # webhook deliveries due: retries, lost messages, dead workers; 3-day pause
        "task": "vendorportal.webhooks.tasks.webhook_dispatch",
        "schedule": crontab(minute="*/2"),
    },
    "outbox-dispatch": {  # e-mails that are due and unsent: lost messages, dead workers, retries
        "task": "vendorportal.tasks.outbox_dispatch",
        "schedule": crontab(minute="*/5"),
    },
    "swp-expiry-daily": {  # Softwarepflege reminders and notices (SWP-8)
        "task": "licensing.tasks.swp_expiry_daily",
        "schedule": crontab(hour=6, minute=0),
    },
    "swp-report-weekly": {  # Softwarepflege report to finance (SWP-8)
        "task": "licensing.tasks.swp_report_weekly",
        "schedule": crontab(hour=7, minute=0, day_of_week="mon"),
    },
    "direct-debits-reannounce-daily": {  # a debit that missed its announced day gets a new one (ORD-8)
        "task": "billing.tasks.direct_debits_reannounce_daily",
        "schedule": crontab(hour=6, minute=15),
    },
    "invoices-overdue-daily": {  # overdue invoices and their dunning levels (billing, issue 18)
        "task": "billing.tasks.invoices_overdue_daily",
        "schedule": crontab(hour=6, minute=30),
    },
    # The previous month's invoice journal with its SEPA files, after the monthly
    # invoicing run of the early morning of the 1st (which bills the new month).
    "finance-journal-monthly": {
        "task": "billing.tasks.finance_journal_monthly",
        "schedule": crontab(hour=7, minute=30, day_of_month=1),
    },
    "finance-open-items-weekly": {  # open and overdue invoices with ageing, to finance
        "task": "billing.tasks.finance_open_items_weekly",
        "schedule": crontab(hour=7, minute=15, day_of_week="mon"),
    },
    "support-sla-quarter-hourly": {  # Enterprise SLA: warn one support hour before, flag breaches (SUP-2)
        "task": "support.tasks.sla_check_quarter_hourly",
        "schedule": crontab(minute="*/15"),
    },
    "support-mail": {  # inbound support e-mail → tickets and replies (queue "mail-in")
        "task": "support.tasks.fetch_support_mail",
        "schedule": crontab(minute="*/5"),
        # A run not started within 4 minutes is dropped: the next one reads the same mail,
        # so a stopped mail-in worker does not pile up runs.
        "options": {"expires": 240},
    },
    "subscriptions-end-daily": {  # keys of ended subscriptions are blocked, once (LIC-12)
        "task": "billing.tasks.subscriptions_end_daily",
        "schedule": crontab(hour=0, minute=30),
    },
    "invoicing-monthly": {  # bill every subscription period / plan year starting this month (INV-3)
        "task": "billing.tasks.invoicing_monthly",
        "schedule": crontab(hour=3, minute=0, day_of_month=1),
    },
    "documents-check-daily": {  # every issued document's PDF present and unchanged (GoBD)
        "task": "vendorportal.tasks.documents_check_daily",
        "schedule": crontab(hour=4, minute=40),
    },
    "cockpit-revenue-months-daily": {  # the cockpit's sums of closed months' revenue (issue 20)
        "task": "cockpit.tasks.revenue_months_daily",
        "schedule": crontab(hour=2, minute=40),
    },
    "invoicing-catch-up": {  # finishes a run that died; queues nothing when all is billed (INV-3)
        "task": "billing.tasks.invoicing_catch_up",
        "schedule": crontab(minute=20),
    },
}
# The settings that name the recipients of a scheduled job's e-mails (shown to staff
# beside the schedule; the jobs read the same settings).
JOB_RECIPIENTS = {
    "swp-report-weekly": "FINANCE_EMAIL",
    "finance-journal-monthly": "FINANCE_EMAILS",
    "finance-open-items-weekly": "FINANCE_EMAILS",
    "support-sla-quarter-hourly": "SUPPORT_EMAIL",
}

# --- Licensing -------------------------------------------------------------------
# Ed25519 private key that signs module licence keys (LIC-2). Generated on first
# use in the embedded default; back it up (see README).
LICENSE_SIGNING_KEY_FILE = Path(
    env.str("LICENSE_SIGNING_KEY_FILE", default=str(VAR_DIR / "keys" / "license-signing.pem"))
)
# Further public keys (PEM) that still verify: keys of earlier, rotated signing keys.
LICENSE_PUBLIC_KEYS_DIR = Path(env.str("LICENSE_PUBLIC_KEYS_DIR", default=str(VAR_DIR / "keys" / "public")))

# --- Vendor (letterhead of documents) ------------------------------------------
VENDOR = {
    "name": env.str("VENDOR_NAME", default="Fluxpunkt Module GmbH (Demo)"),
    "street": env.str("VENDOR_STREET", default="Musterstraße 1"),
    "postal_code": env.str("VENDOR_POSTAL_CODE", default="72622"),
    "city": env.str("VENDOR_CITY", default="Nürtingen"),
    "country": "DE",
    "vat_id": env.str("VENDOR_VAT_ID", default="DE136695976"),
    "email": env.str("VENDOR_EMAIL", default="vertrieb@vendor.example"),
    # Invoices (INV-2, INV-4): the account partners pay to, the SEPA creditor ID for direct
    # debits (ORD-8), tax number and commercial register (EN 16931 needs one of them on
    # invoices without VAT IDs, category O). The defaults are demo values, valid in form only.
    "iban": env.str("VENDOR_IBAN", default="DE02120300000000202051"),
    "bic": env.str("VENDOR_BIC", default="BYLADEM1001"),
    "creditor_id": env.str("VENDOR_CREDITOR_ID", default="DE98ZZZ09999999999"),
    "tax_number": env.str("VENDOR_TAX_NUMBER", default="74/123/45678"),
    # § 35a GmbHG and § 14 Abs. 4 UStG: every business letter and invoice names the legal
    # form, the seat (Sitz), the register court and number and all managing directors; the
    # bank's name goes with the account. Demo values.
    "legal_form": env.str("VENDOR_LEGAL_FORM", default="GmbH"),
    "seat": env.str("VENDOR_SEAT", default="Nürtingen"),
    "register_court": env.str("VENDOR_REGISTER_COURT", default="Amtsgericht Stuttgart"),
    "register_number": env.str("VENDOR_REGISTER_NUMBER", default="HRB 999999"),
    "managing_directors": env.list("VENDOR_MANAGING_DIRECTORS", default=["Erika Musterfrau", "Max Mustermann"]),
    "bank_name": env.str("VENDOR_BANK_NAME", default="Deutsche Kreditbank AG (Demo)"),
}
# The register entry in one string (EN 16931 BT-30 in the Factur-X XML); VENDOR_REGISTRATION
# overrides it where the register writes it otherwise.
VENDOR["legal_registration"] = env.str(
    "VENDOR_REGISTRATION", default=f"{VENDOR['register_number']}, {VENDOR['register_court']}"
)
# The vendor as SEPA creditor (ORD-8): name, account and creditor identifier
# (Gläubiger-Identifikationsnummer) in every pain.008 file and on direct-debit invoices.
# The defaults are demo values (the Bundesbank's test creditor ID, a valid test IBAN).
SEPA_CREDITOR_NAME = env.str("SEPA_CREDITOR_NAME", default=VENDOR["name"])
# One account by default: the one invoices name (VENDOR_IBAN, VENDOR_BIC, VENDOR_CREDITOR_ID).
SEPA_CREDITOR_IBAN = env.str("SEPA_CREDITOR_IBAN", default=VENDOR["iban"])
SEPA_CREDITOR_BIC = env.str("SEPA_CREDITOR_BIC", default=VENDOR["bic"])
SEPA_CREDITOR_ID = env.str("SEPA_CREDITOR_ID", default=VENDOR["creditor_id"])
# Business days (TARGET2) a direct-debit file must reach the bank before its collection day
# (SEPA core: 1). A debit whose day is nearer when the export runs is announced again (ORD-8).
SEPA_SUBMISSION_LEAD_DAYS = env.int("SEPA_SUBMISSION_LEAD_DAYS", default=1)
# What a returned direct debit costs the partner when the bank statement does not say what the
# bank charged (issue 18): a charge (Nebenforderung) on the partner's next invoicing run.
SEPA_RETURN_FEE = env.str("SEPA_RETURN_FEE", default="3.00")
# State whose public holidays close support (SUP-2); ISO 3166-2 subdivision code.
SUPPORT_HOLIDAY_STATE = env.str("SUPPORT_HOLIDAY_STATE", default="BW")
# Support desk (issue 11): inbound mail from IMAP over TLS when SUPPORT_IMAP_URL is set
# (imaps://user:password@host[:993]/INBOX), else from a Maildir under var/; staff notices go
# to the support group's members, else to SUPPORT_EMAIL. Attachments live outside MEDIA_ROOT.
SUPPORT_IMAP_URL = env.str("SUPPORT_IMAP_URL", default="")
# The IMAP server's certificate is always verified: against the system's CAs, or against
# this CA file (PEM) when the mail server has a certificate of a private CA.
SUPPORT_MAIL_CA_FILE = env.str("SUPPORT_MAIL_CA_FILE", default="")
# Seconds for the IMAP connect and for every read: a server that accepts and never answers
# ends the run (German error in the job log) instead of holding the worker.
SUPPORT_MAIL_TIMEOUT = env.float("SUPPORT_MAIL_TIMEOUT", default=30.0)
# Largest inbound message read (bytes): five attachments of 10 MB in base64 fit. A larger
# one is not downloaded; it is recorded from its header and the support staff are told.
SUPPORT_MAIL_MAX_BYTES = env.int("SUPPORT_MAIL_MAX_BYTES", default=75 * 1024 * 1024)
SUPPORT_MAILDIR = env.str("SUPPORT_MAILDIR", default=str(VAR_DIR / "support-mail"))
SUPPORT_EMAIL = env.str("SUPPORT_EMAIL", default="support@vendor.example")
# Sender of the support desk's e-mails, and where partners' replies go: the mailbox that
# fetch_support_mail reads (SUPPORT_IMAP_URL), so an answer becomes a ticket reply.
SUPPORT_FROM_EMAIL = env.str("SUPPORT_FROM_EMAIL", default="Support Fluxpunkt (Demo) <support@vendor.example>")
SUPPORT_REPLY_TO = env.str("SUPPORT_REPLY_TO", default=SUPPORT_FROM_EMAIL)
SUPPORT_ATTACHMENTS_ROOT = env.str("SUPPORT_ATTACHMENTS_ROOT", default=str(VAR_DIR / "support-attachments"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # WeasyPrint logs every rendering step at INFO; fontTools its subsetting.
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING", "propagate": False},
        "fontTools": {"level": "WARNING"},
        # Axes logs every login and its start at INFO; failed logins and lockouts are warnings.
        "axes": {"level": "WARNING"},
    },
}
