"""Staff admin of the licensing area (STYLE 5): search, filters, autocomplete, history."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from licensing.constants import AUERSWALD, STARFACE
from licensing.models import Bundle, Installation, ModuleVersion, PbxVersion, Price, PriceList, Product
from vendorportal import clock
from vendorportal.parties.admin import CustomerAdmin


class InstallationInline(admin.TabularInline):
    model = Installation
    fk_name = "customer"
    extra = 0
    fields = ["identifier", "vendor", "edition", "pbx_users", "user_light_licenses", "pbx_version", "decommissioned_on"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


admin.site.area_add("installations", title=_("Installationen"), order=20, models=["licensing.installation"])
admin.site.area_add(
    "licenses",
    title=_("Modullizenzen"),
    order=30,
    models=["licensing.license", "licensing.deliverynote", "licensing.nfrlock", "licensing.insightownuse"],
)
admin.site.area_add(
    "systems",
    title=_("Auerswald-Systeme und Softwarepflege"),
    order=40,
    models=[
        "licensing.auerswaldsystem",
        "licensing.systemlicense",
        "licensing.tryout",
        "licensing.reinitialisation",
        "licensing.maintenancecoverage",
        "licensing.maintenancenotice",
    ],
)
admin.site.area_add(
    "catalog",
    title=_("Katalog und Preise"),
    order=70,
    models=[
        "licensing.product",
        "licensing.bundle",
        "licensing.pricelist",
        "licensing.price",
        "licensing.moduleversion",
        "licensing.pbxversion",
    ],
)

# The core's customer page lists the customer's installations and finds customers by server key.
CustomerAdmin.inlines = [*CustomerAdmin.inlines, InstallationInline]
CustomerAdmin.search_fields = [*CustomerAdmin.search_fields, "installations__identifier"]


@admin.register(Installation)
class InstallationAdmin(SimpleHistoryAdmin):
    list_display = [
        "identifier",
        "identifier_kind",
        "edition",
        "customer",
        "partner",
        "installed_users_display",
        "tier_display",
        "pbx_version",
        "nfr",
        "decommissioned_on",
    ]
    list_filter = [
        "vendor",
        "edition",
        "identifier_kind",
        "has_nfr_server_license",
        "has_nfr_user_license",
        ("decommissioned_on", admin.EmptyFieldListFilter),
    ]
    search_fields = ["identifier", "name", "customer__company", "customer__partner__company"]
    list_select_related = ["customer", "customer__partner"]
    autocomplete_fields = ["customer", "secondary_of"]
    readonly_fields = ["identifier_kind", "created_at", "move_link"]
    show_full_result_count = False
    REDUNDANCY_FIELDSET = _("Redundanz und Außerbetriebnahme")
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "customer",
                    "name",
                    "vendor",
                    "edition",
                    "identifier",
                    "identifier_kind",
                    "pbx_version",
                    "delivery_email",
                ]
            },
        ),
        (
            _("Lizenzen der Anlage"),
            {"fields": ["pbx_users", "user_light_licenses", "has_nfr_server_license", "has_nfr_user_license"]},
        ),
        (
            REDUNDANCY_FIELDSET,
            {"fields": ["secondary_of", "decommissioned_on", "decommission_proof", "created_at", "move_link"]},
        ),
    ]

    # Fields that only mean something for a STARFACE (NFR licences, User Light, redundancy, the
    # move with STARFACE's decommission proof); an Auerswald system's page leaves them out.
    STARFACE_ONLY_FIELDS = {
        "user_light_licenses",
        "has_nfr_server_license",
        "has_nfr_user_license",
        "secondary_of",
        "decommission_proof",
        "move_link",
    }

    def get_fieldsets(self, request, obj=None):
        from licensing.admin_licenses import MOVE_PERMISSIONS

        fieldsets = super().get_fieldsets(request, obj)
        if not request.user.has_perms(MOVE_PERMISSIONS):
            # Who may not move an installation is not offered the link to a page that refuses.
            fieldsets = [
                (name, {**opts, "fields": [f for f in opts["fields"] if f != "move_link"]}) for name, opts in fieldsets
            ]
        if obj is None or obj.vendor != AUERSWALD:
            return fieldsets
        return [
            (
                _("Außerbetriebnahme") if name == self.REDUNDANCY_FIELDSET else name,
                {**options, "fields": [f for f in options["fields"] if f not in self.STARFACE_ONLY_FIELDS]},
            )
            for name, options in fieldsets
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None and obj.vendor == AUERSWALD and "identifier" in form.base_fields:
            form.base_fields["identifier"].label = _("Seriennummer")
            form.base_fields["identifier"].help_text = _("Seriennummer des Auerswald-Systems (SYS-1).")
        return form

    def get_urls(self):
        from django.urls import path

        from licensing.admin_licenses import installation_move_view

        view = self.admin_site.admin_view(lambda request, object_id: installation_move_view(self, request, object_id))
        return [path("<int:object_id>/move/", view, name="licensing_installation_move")] + super().get_urls()

    @admin.display(description=_("Umzug"))
    def move_link(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        if not obj.pk or obj.vendor != STARFACE or not obj.is_active_on(clock.today()):
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:licensing_installation_move", args=[obj.pk]),
            _("Umzug auf neuen Serverlizenzschlüssel …"),
        )

    @admin.display(description=_("Partner"), ordering="customer__partner__company")
    def partner(self, obj):
        return obj.customer.partner

    @admin.display(description=_("Benutzerlizenzen"))
    def installed_users_display(self, obj):
        return obj.installed_users

    @admin.display(description=_("Staffel"))
    def tier_display(self, obj):
        return obj.tier or "—"

    @admin.display(boolean=True, description="NFR")
    def nfr(self, obj):
        return obj.has_nfr


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin):
    list_display = [
        "article",
        "name",
        "kind",
        "pricing_model",
        "purchase_allowed",
        "subscription_allowed",
        "nfr_allowed",
        "demo_allowed",
        "active",
    ]
    list_filter = [
        "kind",
        "pricing_model",
        "purchase_allowed",
        "subscription_only",
        "nfr_allowed",
        "demo_allowed",
        "active",
    ]
    search_fields = ["article", "name"]


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    list_display = ["name", "active"]
    search_fields = ["name", "products__name"]
    filter_horizontal = ["products"]


class PriceInline(admin.TabularInline):
    model = Price
    extra = 0
    autocomplete_fields = ["product"]
    fields = ["product", "kind", "tier", "term_months", "unit", "amount"]


@admin.register(PriceList)
class PriceListAdmin(SimpleHistoryAdmin):
    list_display = ["name", "valid_from", "is_sample"]
    list_filter = ["is_sample"]
    search_fields = ["name"]
    inlines = [PriceInline]


@admin.register(Price)
class PriceAdmin(SimpleHistoryAdmin):
    list_display = ["product", "kind", "tier", "term_months", "unit", "amount", "price_list"]
    list_filter = ["price_list", "kind", "term_months", "tier", "product__kind"]
    search_fields = ["product__article", "product__name"]
    list_select_related = ["product", "price_list"]
    autocomplete_fields = ["product", "price_list"]
    show_full_result_count = False


@admin.register(PbxVersion)
class PbxVersionAdmin(admin.ModelAdmin):
    list_display = ["number", "vendor", "released_on"]
    list_filter = ["vendor"]
    search_fields = ["number"]


@admin.register(ModuleVersion)
class ModuleVersionAdmin(admin.ModelAdmin):
    list_display = ["product", "version", "released_on", "is_paid_update"]
    list_filter = ["is_paid_update", "product"]
    search_fields = ["product__name", "product__article", "version"]
    list_select_related = ["product"]
    autocomplete_fields = ["product"]
    filter_horizontal = ["tested_with"]


# The other admin modules register on import; after the classes above they build on.
from licensing import admin_delivery, admin_licenses, admin_systems  # noqa: E402, F401, I001
