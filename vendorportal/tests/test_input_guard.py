"""Issue 17's central guards with hand-made inputs: integer lookups that never hand the
database a number its column cannot hold, NUL bytes refused with a German 400, admin list
parameters out of range refused with a message (the fuzz test walks everything else)."""

import pytest
from django.contrib.auth import get_user_model
from django.http import QueryDict
from django.urls import reverse

from vendorportal.input_guard import admin_list_params_problem
from vendorportal.parties.models import Partner
from vendorportal.parties.tests.factories import CustomerFactory, PartnerFactory, PartnerUserFactory

pytestmark = pytest.mark.django_db

HUGE = 10**23


def test_integer_lookups_with_values_no_column_holds_find_nothing_instead_of_failing():
    partner = PartnerFactory()
    customer = CustomerFactory(partner=partner)
    assert list(Partner.objects.filter(pk__in=[HUGE])) == []
    assert list(Partner.objects.filter(pk__in=[HUGE, partner.pk, -HUGE])) == [partner]
    assert list(Partner.objects.filter(pk__in=["abc", str(partner.pk)])) == [partner]
    assert list(Partner.objects.filter(pk__in=["abc"])) == []
    # A foreign key compared with a raw value (an admin list's ?partner=…)
    assert list(customer.__class__.objects.filter(partner=HUGE)) == []
    assert list(customer.__class__.objects.filter(partner__in=[HUGE, partner.pk])) == [customer]
    # …and "not that one" still means all of them
    assert list(customer.__class__.objects.exclude(partner=HUGE)) == [customer]


@pytest.mark.parametrize(
    "query,problem",
    [
        ("issued_on__year=99999", "99999 liegt für den Filter „issued_on__year“ außerhalb von 1 bis 9998."),
        ("issued_on__year=-99999999999999999999", "außerhalb von 1 bis 9998"),
        ("issued_on__year=9999", "außerhalb von 1 bis 9998"),  # the drill-down asks for the year after
        ("issued_on__year=2026&issued_on__month=13", "außerhalb von 1 bis 12"),
        ("issued_on__year=2026&issued_on__month=2&issued_on__day=0", "außerhalb von 1 bis 31"),
        ("issued_on__year=abc", "„abc“ ist für den Filter „issued_on__year“ keine Zahl."),
        ("partner=99999999999999999999999", "Die Zahl 99999999999999999999999 im Filter „partner“ ist zu groß."),
        ("partner__id__exact=-9223372036854775809", "ist zu groß"),
        # fine: what lists use every day, and a search for a long number
        ("issued_on__year=2026&issued_on__month=12&issued_on__day=31", ""),
        ("partner=9223372036854775807", ""),
        ("q=99999999999999999999999", ""),
        ("o=-1.2&p=3", ""),
    ],
)
def test_admin_list_parameters(query, problem):
    found = admin_list_params_problem(QueryDict(query))
    assert (problem in found) if problem else found == ""
    assert bool(found) == bool(problem)


@pytest.fixture
def superuser_client(client):
    client.force_login(get_user_model().objects.create_superuser("chef", "chef@vendor.example", "pw"))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/billing/invoice/?issue_date__year=99999999999999999999",
        "/admin/billing/invoice/?issue_date__year=-5",
        "/admin/billing/order/?partner=99999999999999999999999",
        "/admin/vendorportal/outboxmessage/?created_at__year=99999",
        "/admin/billing/subscription/?signed_on__year=-99999999999999999999",
        "/admin/licensing/deliverynote/?created_at__year=99999999999999999999",
        "/admin/axes/accesslog/?attempt_time__year=99999",
    ],
)
def test_an_admin_list_with_an_absurd_filter_says_so_and_shows_the_list(superuser_client, url):
    response = superuser_client.get(url, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(url.split("?")[0], 302)]
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1 and ("außerhalb" in shown[0] or "zu groß" in shown[0])


@pytest.mark.parametrize(
    "method,url,data",
    [
        ("get", "/portal/wissen/", {"q": "\x00"}),
        ("get", "/portal/wissen/", {"tag": "a\x00b"}),
        ("post", "/portal/kunden/neu/", {"company": "Firma\x00"}),
        ("post", "/portal/kunden/neu/", {"comp\x00any": "Firma"}),
        ("get", "/portal/wissen/%00/", {}),
    ],
)
def test_nul_bytes_are_refused_with_a_german_400(client, method, url, data):
    login = PartnerUserFactory(role="admin")
    client.force_login(login.user)
    before = login.partner.customers.count()
    response = getattr(client, method)(url, data)
    assert response.status_code == 400
    assert "unzulässiges Steuerzeichen (NUL-Byte)" in response.content.decode()
    assert login.partner.customers.count() == before


def test_a_nul_byte_in_an_uploaded_file_name_gives_no_500(client):
    # Django's upload parser cleans the name itself; the form then answers, nothing is stored.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from support.models import Ticket

    login = PartnerUserFactory(role="admin")
    client.force_login(login.user)
    upload = SimpleUploadedFile("log\x00.txt", b"x")
    response = client.post(reverse("portal:support_ticket_new"), {"subject": "x", "files": upload})
    assert response.status_code in (200, 400) and not Ticket.objects.exists()
