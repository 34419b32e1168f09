"""Staff groups are kept by a post_migrate handler: an old database and a fresh one end equal."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from vendorportal import roles

pytestmark = pytest.mark.django_db(transaction=True)


def granted():
    return {
        g.name: set(g.permissions.values_list("content_type__app_label", "codename"))
        for g in Group.objects.order_by("name")
    }


def expected():
    out = {}
    for group_name, grants in roles.ROLES.items():
        out[group_name] = {
            (key.split(".")[0], f"{action}_{key.split('.')[1]}")
            for key, actions in grants.items()
            for action in actions
        }
    return out


def test_fresh_database_has_exactly_the_roles():
    assert granted() == expected()


def test_old_database_with_german_names_and_a_stray_right_ends_equal():
    Group.objects.get(name=roles.SALES).delete()
    old_sales = Group.objects.create(name="Vertrieb")
    old_sales.permissions.add(Permission.objects.get(content_type__app_label="auth", codename="change_user"))
    Group.objects.filter(name=roles.FINANCE).update(name="Buchhaltung")
    Group.objects.get(name="Buchhaltung").permissions.clear()

    call_command("migrate", verbosity=0)  # nothing to migrate; post_migrate still runs

    assert granted() == expected()
    assert not Group.objects.filter(name__in=["Vertrieb", "Buchhaltung"]).exists()
