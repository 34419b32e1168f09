"""``load_demo``: catalog + demo data, idempotent, logins that work."""
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.http import HttpRequest  # django-axes checks every login against its request

from licensing.models import Installation, ModuleVersion, PbxVersion, Price, Product
from vendorportal.demo import LOGINS

pytestmark = pytest.mark.django_db


def row_counts():
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


def test_second_run_changes_nothing():
    call_command("load_demo", stdout=io.StringIO())
    before = row_counts()
    call_command("load_demo", stdout=io.StringIO())
    assert row_counts() == before


def test_demo_content():
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    for login in LOGINS:
        assert login.username in out.getvalue()
    # every module has ≥ 2 versions, one of them a paid update
    for module in Product.objects.filter(kind=Product.MODULE):
        versions = ModuleVersion.objects.filter(product=module)
        assert versions.count() >= 2 and versions.filter(is_paid_update=True).exists()
    # a PBX version that no module version supports yet
    assert PbxVersion.objects.filter(module_versions__isnull=True).exists()
    # Call Assist prices exist only as labelled samples (CAT-8)
    assert set(Price.objects.filter(product__kind=Product.CALL_ASSIST).values_list("price_list__is_sample", flat=True)) == {True}
    kinds = set(Installation.objects.values_list("identifier_kind", flat=True))
    assert kinds == {"server_key", "hardware_id", "serial"}
    # issued demo keys: redundancy key on two server keys, subscription, demo, own-use Insight
    from licensing.models import DeliveryNote, InsightOwnUse, License

    assert sorted(License.objects.values_list("kind", flat=True)) == ["demo", "purchase", "purchase", "purchase", "subscription"]
    assert License.objects.get(product__article="CALLREC").bindings.count() == 2
    assert DeliveryNote.objects.count() == 4  # one per order and installation
    assert InsightOwnUse.objects.get().license.tier == "1-20"


def test_demo_logins_work(client):
    call_command("load_demo", stdout=io.StringIO())
    for login in LOGINS:
        assert client.login(request=HttpRequest(), username=login.username, password=login.password), login.username
        assert client.get(login.where).status_code == 200, login.username
        client.logout()


def test_uploaded_files_only_for_staff(client, admin_user, settings, tmp_path):
    from licensing.tests.factories import PartnerUserFactory

    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "proof.pdf").write_bytes(b"%PDF-1.4 proof")
    partner_user = PartnerUserFactory().user
    client.force_login(partner_user)
    assert client.get("/media/proof.pdf").status_code == 302  # to the admin login
    client.force_login(admin_user)
    response = client.get("/media/proof.pdf")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 proof"
