"""Demo data for ``make run`` (``python manage.py load_demo``): idempotent, a second
run changes nothing. Logins and passwords are printed by the command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from billing.models import SepaMandate
from billing.services import sepa_mandate_create
from licensing.constants import AUERSWALD, STARFACE
from licensing.models import Bundle, InsightOwnUse, Installation, License, ModuleVersion, PbxVersion, Product
from licensing.services.catalog import DATA_DIR, SEED_PRICE_LIST, catalog_load
from support.knowledge import faq_load
from support.models import CustomerSupportFacts, HourlyRate
from vendorportal import clock, roles
from vendorportal.money import D
from vendorportal.parties.models import Customer, Partner, PartnerLevel, PartnerUser

SAMPLE_PRICE_LIST = {
    "name": "Beispielpreise (Demo) – PBX Call Assist 5, Teams Integration, AURORA",
    "valid_from": date(2024, 11, 1),
    "file": DATA_DIR / "sample_prices_demo.csv",
    "source": "Beispielpreise für Demo und Test – keine Herstellerangabe",
    "is_sample": True,
}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    where: str


LOGINS = [
    DemoLogin("Administrator (Hersteller)", "admin", "admin-demo", "/admin/"),
    DemoLogin("Buchhaltung", "finanzen", "finanzen-demo", "/admin/"),
    DemoLogin("Support", "support", "support-demo", "/admin/"),
    DemoLogin("Vertrieb", "vertrieb", "vertrieb-demo", "/admin/"),
    DemoLogin("Partner Muster Kommunikation (Admin)", "muster", "muster-demo", "/portal/"),
    DemoLogin("Partner Beispiel IT-Service (Mitarbeiter)", "beispiel", "beispiel-demo", "/portal/"),
]

PBX_VERSIONS = [
    ("7.3.0.10", date(2022, 5, 10)),
    ("8.0.0.11", date(2023, 4, 18)),
    ("8.1.0.3", date(2024, 3, 5)),
    ("8.2.0.5", date(2025, 6, 24)),
    # Newest release: no module version has been tested with it yet (SUB-6, LIC-5).
    ("9.0.0.4", date(2026, 10, 6)),
]

# (version, release date, paid update?, PBX versions tested with) for every module.
MODULE_VERSION_PLAN = [
    ("1.8", date(2018, 3, 12), False, ["7.3.0.10"]),
    ("2.0", date(2021, 2, 1), True, ["7.3.0.10", "8.0.0.11"]),
    ("2.1", date(2024, 4, 15), False, ["8.0.0.11", "8.1.0.3", "8.2.0.5"]),
]


def _user(username, password, *, staff=False, superuser=False, group=None, email=""):
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(
            username=username, password=password, email=email, is_staff=staff, is_superuser=superuser
        )
        if group:
            user.groups.add(Group.objects.get(name=group))
    return user


@transaction.atomic
def demo_load() -> list[DemoLogin]:
    catalog_load(price_lists=[SEED_PRICE_LIST, SAMPLE_PRICE_LIST])
    # Support: the seed 000 FAQ as public articles; demo hourly rates (the seeds name no
    # amounts — the service price list is staff-entered data, SUP-5).
    faq_load()
    HourlyRate.objects.get_or_create(
        kind=HourlyRate.NORMAL, valid_from=date(2022, 9, 1), defaults={"amount": D("120.00")}
    )
    HourlyRate.objects.get_or_create(
        kind=HourlyRate.DISCOUNTED, valid_from=date(2022, 9, 1), defaults={"amount": D("96.00")}
    )

    registered, _ = PartnerLevel.objects.get_or_create(name="Registered", defaults={"rank": 10, "discount_percent": 0})
    certified, _ = PartnerLevel.objects.get_or_create(
        name="Certified", defaults={"rank": 20, "discount_percent": 20, "grants_partner_conditions": True}
    )
    PartnerLevel.objects.get_or_create(
        name="Gold", defaults={"rank": 30, "discount_percent": 25, "grants_partner_conditions": True}
    )

    muster, _ = Partner.objects.get_or_create(
        company="Muster Kommunikation GmbH",
        defaults=dict(
            street="Hauptstraße 12",
            postal_code="70173",
            city="Stuttgart",
            country="DE",
            vat_id="DE123456788",
            level=certified,
            status_confirmed_on=date(2025, 3, 1),
            delivery_email="technik@muster-kommunikation.example",
            invoice_email="buchhaltung@muster-kommunikation.example",
        ),
    )
    # Muster pays its subscriptions by SEPA direct debit (ORD-8).
    if not SepaMandate.objects.filter(reference="MUSTER-0001").exists():
        sepa_mandate_create(
            partner=muster,
            iban="DE89370400440532013000",
            bic="COBADEFFXXX",
            reference="MUSTER-0001",
            signed_on=date(2025, 3, 10),
        )
    beispiel, _ = Partner.objects.get_or_create(
        company="Beispiel IT-Service KG",
        defaults=dict(
            street="Am Markt 3",
            postal_code="04109",
            city="Leipzig",
            country="DE",
            vat_id="DE811907980",
            level=registered,
            delivery_email="lizenzen@beispiel-it.example",
            invoice_email="rechnung@beispiel-it.example",
            prepayment_required=True,
        ),
    )

    _user("admin", "admin-demo", staff=True, superuser=True, email="admin@vendor.example")
    _user("finanzen", "finanzen-demo", staff=True, group=roles.FINANCE, email="finanzen@vendor.example")
    _user("support", "support-demo", staff=True, group=roles.SUPPORT, email="support@vendor.example")
    _user("vertrieb", "vertrieb-demo", staff=True, group=roles.SALES, email="vertrieb@vendor.example")
    for username, password, partner, role in [
        ("muster", "muster-demo", muster, PartnerUser.ADMIN),
        ("beispiel", "beispiel-demo", beispiel, PartnerUser.MEMBER),
    ]:
        user = _user(username, password, email=f"{username}@partner.example")
        PartnerUser.objects.get_or_create(user=user, defaults={"partner": partner, "role": role})

    own, _ = Customer.objects.get_or_create(
        partner=muster, company="Muster Kommunikation GmbH (Eigennutzung)", defaults={"city": "Stuttgart"}
    )
    baeckerei, _ = Customer.objects.get_or_create(
        partner=muster,
        company="Bäckerei Brezel GmbH",
        defaults={"city": "Esslingen"},
    )
    # Support's facts about the bakery: DPA on file, service & maintenance contract (SUP-1, SUP-4).
    CustomerSupportFacts.objects.get_or_create(
        customer=baeckerei,
        defaults={"dpa_on_file_since": date(2024, 1, 15), "service_contract_until": date(2027, 12, 31)},
    )
    kanzlei, _ = Customer.objects.get_or_create(
        partner=muster, company="Kanzlei Recht & Partner", defaults={"city": "Tübingen"}
    )
    praxis, _ = Customer.objects.get_or_create(
        partner=beispiel, company="Zahnarztpraxis Dr. Weiß", defaults={"city": "Leipzig"}
    )

    def installation(identifier, **fields):
        obj = Installation.objects.filter(identifier=identifier).first()
        if obj is None:
            obj = Installation(identifier=identifier, **fields)
            obj.full_clean()
            obj.save()
        return obj

    installation(
        "NFR01-MUSTR-00001-VMEDT",
        customer=own,
        name="Demo-VM im Büro",
        vendor=STARFACE,
        edition="vm",
        pbx_users=15,
        has_nfr_server_license=True,
        has_nfr_user_license=True,
        pbx_version="8.2.0.5",
    )
    primary = installation(
        "BRZL1-A7K2M-Q9X4T-2025P",
        customer=baeckerei,
        name="Zentrale",
        vendor=STARFACE,
        edition="appliance",
        pbx_users=35,
        user_light_licenses=10,
        pbx_version="8.2.0.5",
    )
    installation(
        "BRZL2-R3DUN-D4NT5-2025S",
        customer=baeckerei,
        name="Redundanz",
        vendor=STARFACE,
        edition="appliance",
        pbx_users=35,
        user_light_licenses=10,
        pbx_version="8.2.0.5",
        secondary_of=primary,
    )
    installation(
        "KNZL7-CL0UD-55K3Y-TUE01",
        customer=kanzlei,
        name="Cloud",
        vendor=STARFACE,
        edition="cloud",
        pbx_users=12,
        pbx_version="8.2.0.5",
    )
    installation(
        "3F9A-77C1-D2E4-0B6A",
        customer=kanzlei,
        name="Free Edition Testplatz",
        vendor=STARFACE,
        edition="free",
        pbx_users=4,
        pbx_version="8.1.0.3",
    )
    installation(
        "1AC5008123", customer=praxis, name="COMtrexx Next", vendor=AUERSWALD, edition="comtrexx_next", pbx_users=8
    )
    installation(
        "1AB7704411",
        customer=praxis,
        name="COMtrexx Business Filiale",
        vendor=AUERSWALD,
        edition="comtrexx_business",
        pbx_users=25,
    )
    installation(
        "1AE0907712",
        customer=kanzlei,
        name="COMtrexx Flex Kanzlei",
        vendor=AUERSWALD,
        edition="comtrexx_flex",
        pbx_users=6,
    )
    installation(
        "1AF3301547", customer=baeckerei, name="COMtrexx VM Test", vendor=AUERSWALD, edition="comtrexx_vm", pbx_users=3
    )

    pbx = {}
    for number, released in PBX_VERSIONS:
        pbx[number], _ = PbxVersion.objects.get_or_create(
            vendor=STARFACE, number=number, defaults={"released_on": released}
        )
    for module in Product.objects.filter(kind=Product.MODULE):
        for version, released, paid, tested in MODULE_VERSION_PLAN:
            mv, created = ModuleVersion.objects.get_or_create(
                product=module,
                version=version,
                defaults={
                    "released_on": released,
                    "is_paid_update": paid,
                    "changelog": "Kostenpflichtiges Update: neue Funktionen." if paid else "Fehlerbehebungen.",
                },
            )
            if created:
                mv.tested_with.set([pbx[n] for n in tested])

    bundle, created = Bundle.objects.get_or_create(name="STARFACE Management Suite")
    if created:
        bundle.products.set(Product.objects.filter(article__in=["BLACKLIST", "HOLIDAY", "TIMEROUTE", "PROIVR"]))

    if not License.objects.filter(order_reference__startswith="DEMO-").exists():
        _demo_licenses()
    _demo_softwarepflege(clock.today())
    _demo_invoices(muster, certified)
    _demo_subscriptions(muster, clock.today())
    return LOGINS


# Auerswald systems and how their PBX Call Assist 5 order lies before the day the demo is
# loaded: (serial, users, ordered this many days ago, months). 12 months of coverage end
# 365 days (366 over a 29 February) after the order, so relative to that day:
DEMO_SOFTWAREPFLEGE = [
    ("1AC5008123", 8, 120, 12),  # running: ends in about 245 days
    ("1AB7704411", 20, 320, 12),  # ends within 60 days (about 45): reminder, finance report
    ("1AE0907712", 5, 405, 12),  # lapsed about 40 days ago: renewable without surcharge
]
DEMO_TRYOUT = ("1AF3301547", 3)  # COMtrexx VM in its 14-day tryout, started 3 days ago


def _demo_softwarepflege(today: date) -> None:
    """Call Assist users and Softwarepflege through the services, as partners order them,
    dated relative to ``today`` so the states hold whenever the demo is loaded. A system
    that has any coverage (or a tryout) already is left alone: a second run adds nothing."""
    from licensing.models import MaintenanceCoverage, SystemLicense, Tryout
    from licensing.services.systems import call_assist_quote, maintenance_confirm, system_licenses_add, tryout_start

    for serial, users, days_ago, months in DEMO_SOFTWAREPFLEGE:
        system = Installation.objects.get(identifier=serial)
        if MaintenanceCoverage.objects.filter(installation=system).exists():
            continue
        ordered_on = today - timedelta(days=days_ago)
        if system.edition == "comtrexx_business":  # SYS-2: activation before any user licence
            system_licenses_add(
                installation=system,
                kind=SystemLicense.ACTIVATION,
                quantity=1,
                order_reference=f"DEMO-SYS-{serial}",
                today=ordered_on,
            )
        quote = call_assist_quote(installation=system, users=users, months=months, today=ordered_on)
        maintenance_confirm(installation=system, quote=quote, order_reference=f"DEMO-SWP-{serial}")
    serial, days_ago = DEMO_TRYOUT
    system = Installation.objects.get(identifier=serial)
    if not Tryout.objects.filter(installation=system).exists():
        tryout_start(installation=system, today=today - timedelta(days=days_ago))


def _demo_licenses() -> None:
    """A few issued keys so the admin, delivery notes and mails have something to show.
    Keys are signed with this machine's signing key (var/keys/)."""
    from licensing.services.licenses import IssueRequest, licenses_issue

    def req(article, identifier, version="2.1", **kw):
        product = Product.objects.get(article=article)
        return IssueRequest(
            product=product,
            installation=Installation.objects.get(identifier=identifier),
            version=ModuleVersion.objects.get(product=product, version=version),
            **kw,
        )

    secondary = Installation.objects.get(identifier="BRZL2-R3DUN-D4NT5-2025S")
    licenses_issue(
        requests=[
            req("CALLREC", "BRZL1-A7K2M-Q9X4T-2025P", order_reference="DEMO-1001", also_installations=(secondary,)),
            req("INTERCOM", "BRZL1-A7K2M-Q9X4T-2025P", order_reference="DEMO-1001"),
        ]
    )
    licenses_issue(
        requests=[
            req(
                "BLACKLIST",
                "KNZL7-CL0UD-55K3Y-TUE01",
                kind=License.SUBSCRIPTION,
                order_reference="DEMO-1002",
                subscription_reference="DEMO-ABO-1",
            )
        ]
    )
    licenses_issue(requests=[req("HOLIDAY", "3F9A-77C1-D2E4-0B6A", kind=License.DEMO, order_reference="DEMO-1003")])
    # LIC-13: the partner's own Insight Analytics, bought at dealer price (list 1.200,00 € − 20 %)
    (own,) = licenses_issue(requests=[req("INSIGHT", "NFR01-MUSTR-00001-VMEDT", order_reference="DEMO-1004")])
    InsightOwnUse.objects.create(
        partner=own.installation.customer.partner, license=own, purchased_on=date(2026, 1, 15), price_paid=D("960.00")
    )


def _demo_order(installation_identifier: str, lines: list[tuple[str, str, int]]):
    """A confirmed order of the installation's partner with its invoice, through the
    services; an installation that has an order already is left alone (idempotent)."""
    from billing import services as billing
    from billing.models import Invoice, Order

    installation = Installation.objects.get(identifier=installation_identifier)
    existing = Order.objects.filter(lines__installation=installation).first()
    if existing is not None:
        return Invoice.objects.filter(order=existing, kind=Invoice.INVOICE).first()
    order = billing.order_create(partner=installation.customer.partner)
    for article, kind, term in lines:
        billing.order_line_add(
            order=order,
            installation=installation,
            product=Product.objects.get(article=article),
            kind=kind,
            term_months=term,
        )
    return billing.order_confirm(order=order)


def _demo_invoices(muster: Partner, certified: PartnerLevel) -> None:
    """This month's invoices (issue 9): a German invoice, an EU reverse-charge invoice
    (Austrian partner), a direct-debit subscription invoice (≤ 50 € net, Muster has a
    mandate) and a credit note."""
    from billing import services as billing
    from billing.models import Invoice

    alpen, _ = Partner.objects.get_or_create(
        company="Alpen Telefonie GmbH",
        defaults=dict(
            street="Mariahilfer Straße 45",
            postal_code="1060",
            city="Wien",
            country="AT",
            vat_id="ATU13585627",
            level=certified,
            status_confirmed_on=date(2025, 6, 1),
            delivery_email="technik@alpen-telefonie.example",
            invoice_email="rechnung@alpen-telefonie.example",
        ),
    )
    hotel, _ = Customer.objects.get_or_create(partner=alpen, company="Hotel Edelweiß", defaults={"city": "Innsbruck"})
    if not Installation.objects.filter(identifier="ALPN1-W13N0-T3L3F-2026A").exists():
        inst = Installation(
            identifier="ALPN1-W13N0-T3L3F-2026A",
            customer=hotel,
            name="Rezeption",
            vendor=STARFACE,
            edition="appliance",
            pbx_users=18,
            pbx_version="8.2.0.5",
        )
        inst.full_clean()
        inst.save()
    # German invoice: Intercom for the law firm's cloud PBX, 169,00 € − 20 % = 135,20 € + 19 %.
    _demo_order("KNZL7-CL0UD-55K3Y-TUE01", [("INTERCOM", "purchase", 0)])
    # Reverse charge (AT): Intercom 135,20 € net, 0 %.
    _demo_order("ALPN1-W13N0-T3L3F-2026A", [("INTERCOM", "purchase", 0)])
    # Direct debit: AURORA subscription, 29,00 € − 20 % = 23,20 € a month (≤ 50 €, mandate MUSTER-0001).
    _demo_order("BRZL1-A7K2M-Q9X4T-2025P", [("AURORA", "subscription", 1)])
    # A credit note: DHCP Server ordered by mistake for the partner's own demo VM, credited in full.
    mistaken = _demo_order("NFR01-MUSTR-00001-VMEDT", [("DHCP", "purchase", 0)])
    if mistaken is not None and not Invoice.objects.filter(credited_invoice=mistaken).exists():
        billing.credit_note_issue(invoice=mistaken, reason="Irrtümlich bestellt – Modul wird nicht benötigt")


# Subscriptions and a service plan of Muster's customers (issue 10), written as rows (the
# order flow creates them in production); all start on the 1st after the day the demo is
# loaded, so ``run_invoicing --month`` for the next month bills them (INV-3):
# (reference, installation, article, tier, monthly price, minimum months, billing months, package)
DEMO_SUBSCRIPTIONS = [
    ("DEMO-ABO-0001", "BRZL1-A7K2M-Q9X4T-2025P", "CALLREC", "21-40", "58.84", 12, 1, ""),  # monthly
    ("DEMO-ABO-0002", "BRZL1-A7K2M-Q9X4T-2025P", "ADSYNC", "21-40", "16.63", 24, 3, ""),  # quarterly
    ("DEMO-ABO-0003", "KNZL7-CL0UD-55K3Y-TUE01", "ADSYNC", "1-20", "16.58", 12, 1, "DEMO-PAKET-1"),  # a package
    ("DEMO-ABO-0004", "KNZL7-CL0UD-55K3Y-TUE01", "CALLREC", "1-20", "29.37", 12, 1, "DEMO-PAKET-1"),
]
DEMO_SERVICE_PLAN = ("DEMO-SP-0001", "BRZL1-A7K2M-Q9X4T-2025P", "premium", "828.00")


def _demo_subscriptions(partner: Partner, today: date) -> None:
    from billing import rules as billing_rules
    from billing.models import ServicePlan, Subscription

    start = billing_rules.term_start(today)
    for reference, identifier, article, tier, price, minimum, interval, package in DEMO_SUBSCRIPTIONS:
        if Subscription.objects.filter(reference=reference).exists():
            continue
        subscription = Subscription(
            reference=reference,
            partner=partner,
            installation=Installation.objects.get(identifier=identifier),
            product=Product.objects.get(article=article),
            tier=tier,
            package=package,
            minimum_months=minimum,
            billing_months=interval,
            monthly_price=D(price),
            signed_on=today,
            term_start=start,
            minimum_end=billing_rules.minimum_term_end(start, minimum),
        )
        subscription.full_clean()
        subscription.save()
    reference, identifier, plan, price = DEMO_SERVICE_PLAN
    if not ServicePlan.objects.filter(reference=reference).exists():
        service_plan = ServicePlan(
            reference=reference,
            partner=partner,
            installation=Installation.objects.get(identifier=identifier),
            plan=plan,
            yearly_price=D(price),
            signed_on=today,
            starts_on=start,
            billed_from=start,
        )
        service_plan.full_clean()
        service_plan.save()
