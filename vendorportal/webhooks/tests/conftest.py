import pytest

from vendorportal.parties.tests.factories import PartnerFactory, PartnerUserFactory

from .receiver import start_receiver

# Ports of this branch's receiving test servers (58444-58454).
RECEIVER_PORTS = range(58444, 58455)


@pytest.fixture
def receiver_factory(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    servers = []

    def make(statuses, redirect_to=""):
        for port in RECEIVER_PORTS:
            try:
                receiver, server = start_receiver(port, statuses, redirect_to)
            except OSError:
                continue
            servers.append(server)
            return receiver
        raise RuntimeError("no free receiver port left in 58444-58454")

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def partner_admin(db):
    partner = PartnerFactory(company="Muster Kommunikation GmbH", delivery_email="technik@muster.test")
    return PartnerUserFactory(partner=partner, role="admin", user__email="chefin@muster.test")
