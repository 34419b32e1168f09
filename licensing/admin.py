"""Staff admin of the licensing area (STYLE 5): search, filters, autocomplete, history."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from licensing.models import (
    Bundle,
    Customer,
    Installation,
    ModuleVersion,
    Partner,
    PartnerLevel,
    PartnerUser,
    PbxVersion,
    Price,
    PriceList,
    Product,
)


@admin.register(PartnerLevel)
class PartnerLevelAdmin(admin.ModelAdmin):
    list_display = ["name", "rank", "discount_percent", "grants_partner_conditions"]
    search_fields = ["name"]
    ordering = ["rank"]


class PartnerUserInline(admin.TabularInline):
    model = PartnerUser
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Partner)
class PartnerAdmin(SimpleHistoryAdmin):
    list_display = ["company", "city", "level", "status_confirmed_on", "vat_id", "prepayment_required", "has_sepa_mandate"]
    list_filter = ["level", "prepayment_required", "country"]
    search_fields = ["company", "vat_id", "delivery_email", "invoice_email", "users__user__email", "users__user__username"]
    list_select_related = ["level"]
    autocomplete_fields = ["level"]
    inlines = [PartnerUserInline]
    fieldsets = [
        (None, {"fields": ["company", "street", "postal_code", "city", "country", "vat_id"]}),
        (_("Partnerprogramm"), {"fields": ["level", "status_confirmed_on"]}),
        (_("Lieferung und Rechnung"), {"fields": ["delivery_email", "invoice_email", "prepayment_required"]}),
        (_("SEPA-Lastschriftmandat"), {"fields": ["sepa_iban", "sepa_bic", "sepa_mandate_reference", "sepa_mandate_signed_on"]}),
    ]

    @admin.display(boolean=True, description=_("SEPA-Mandat"))
    def has_sepa_mandate(self, obj):
        return obj.has_sepa_mandate


@admin.register(PartnerUser)
class PartnerUserAdmin(admin.ModelAdmin):
    list_display = ["user", "partner", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "partner__company"]
    list_select_related = ["user", "partner"]
    autocomplete_fields = ["user", "partner"]


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


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ["company", "partner", "city", "dpa_on_file_since", "service_contract_until"]
    list_filter = ["partner__level", "country"]
    search_fields = ["company", "partner__company", "installations__identifier"]
    list_select_related = ["partner"]
    autocomplete_fields = ["partner"]
    inlines = [InstallationInline]


@admin.register(Installation)
class InstallationAdmin(SimpleHistoryAdmin):
    list_display = ["identifier", "identifier_kind", "edition", "customer", "partner", "installed_users_display", "tier_display", "pbx_version", "nfr", "decommissioned_on"]
    list_filter = ["vendor", "edition", "identifier_kind", "has_nfr_server_license", "has_nfr_user_license", ("decommissioned_on", admin.EmptyFieldListFilter)]
    search_fields = ["identifier", "name", "customer__company", "customer__partner__company"]
    list_select_related = ["customer", "customer__partner"]
    autocomplete_fields = ["customer", "secondary_of"]
    readonly_fields = ["identifier_kind", "created_at", "move_link"]
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["customer", "name", "vendor", "edition", "identifier", "identifier_kind", "pbx_version"]}),
        (_("Lizenzen der Anlage"), {"fields": ["pbx_users", "user_light_licenses", "has_nfr_server_license", "has_nfr_user_license"]}),
        (_("Redundanz und Außerbetriebnahme"), {"fields": ["secondary_of", "decommissioned_on", "decommission_proof", "created_at", "move_link"]}),
    ]

    def get_urls(self):
        from django.urls import path

        from licensing.admin_licenses import installation_move_view

        view = self.admin_site.admin_view(lambda request, object_id: installation_move_view(self, request, object_id))
        return [path("<int:object_id>/move/", view, name="licensing_installation_move")] + super().get_urls()

    def get_fieldsets(self, request, obj=None):
        from licensing.admin_licenses import MOVE_PERMISSIONS

        fieldsets = super().get_fieldsets(request, obj)
        if request.user.has_perms(MOVE_PERMISSIONS):
            return fieldsets
        # Who may not move an installation is not offered the link to a page that refuses.
        return [(name, {**opts, "fields": [f for f in opts["fields"] if f != "move_link"]}) for name, opts in fieldsets]

    @admin.display(description=_("Umzug"))
    def move_link(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        if not obj.pk or obj.vendor != "starface" or obj.is_decommissioned:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:licensing_installation_move", args=[obj.pk]), _("Umzug auf neuen Serverlizenzschlüssel …"))

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
    list_display = ["article", "name", "kind", "pricing_model", "purchase_allowed", "subscription_allowed", "nfr_allowed", "demo_allowed", "active"]
    list_filter = ["kind", "pricing_model", "purchase_allowed", "subscription_only", "nfr_allowed", "demo_allowed", "active"]
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


from licensing import admin_delivery  # noqa: E402,F401

from licensing import admin_licenses  # noqa: E402,F401
from licensing import admin_systems  # noqa: E402,F401
