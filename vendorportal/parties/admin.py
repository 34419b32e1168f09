"""Staff admin of the core's parties: partner levels, partners, partner logins, customers.

Partner logins are managed here, by sales, through :class:`PartnerUserForm`: it creates
or edits the portal login (username, name, e-mail, password or invitation, active)
and never shows staff flags, groups or permissions. Staff accounts themselves are for
superusers only (see ``vendorportal.admin``).

Other areas extend these pages without the core knowing them: an app appends its inline
to :data:`CustomerAdmin.inlines` or a search path to ``search_fields`` in its own admin module.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model, password_validation
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from vendorportal.errors import PortalError
from vendorportal.parties import services
from vendorportal.parties.models import Customer, Partner, PartnerLevel, PartnerUser

User = get_user_model()


@admin.register(PartnerLevel)
class PartnerLevelAdmin(admin.ModelAdmin):
    list_display = ["name", "rank", "discount_percent", "grants_partner_conditions"]
    search_fields = ["name"]
    ordering = ["rank"]


class PartnerUserInline(admin.TabularInline):
    """Read-only list of a partner's logins; they are added and edited on their own form."""

    model = PartnerUser
    extra = 0
    fields = ["username", "email", "role", "is_active"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    verbose_name_plural = _("Portal-Zugänge (über „Partner-Benutzer hinzufügen“ anlegen)")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("Benutzername"))
    def username(self, obj):
        return obj.user.get_username()

    @admin.display(description=_("E-Mail"))
    def email(self, obj):
        return obj.user.email

    @admin.display(boolean=True, description=_("aktiv"))
    def is_active(self, obj):
        return obj.user.is_active


@admin.register(Partner)
class PartnerAdmin(SimpleHistoryAdmin):
    list_display = [
        "company",
        "city",
        "level",
        "status_confirmed_on",
        "vat_id",
        "prepayment_required",
    ]
    list_filter = ["level", "prepayment_required", "country"]
    search_fields = [
        "company",
        "vat_id",
        "delivery_email",
        "invoice_email",
        "users__user__email",
        "users__user__username",
    ]
    list_select_related = ["level"]
    autocomplete_fields = ["level"]
    # Apps append their inlines here from their own admin module (billing: SEPA mandates).
    inlines = [PartnerUserInline]
    fieldsets = [
        (None, {"fields": ["company", "street", "postal_code", "city", "country", "vat_id"]}),
        (_("Partnerprogramm"), {"fields": ["level", "status_confirmed_on"]}),
        (
            _("Lieferung und Rechnung"),
            {"fields": ["delivery_email", "invoice_email", "prepayment_required", "language"]},
        ),
    ]


class PartnerUserForm(forms.ModelForm):
    """A partner's portal login: the login's own fields plus partner and role — nothing staff-only.

    Leaving the password empty on a new login sends an invitation e-mail with a link to
    set one. Logins of staff accounts cannot be edited here (a superuser manages those).
    """

    username = forms.CharField(label=_("Benutzername"), max_length=150)
    first_name = forms.CharField(label=_("Vorname"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Nachname"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-Mail"))
    is_active = forms.BooleanField(
        label=_("aktiv"),
        required=False,
        initial=True,
        help_text=_("Deaktivierte Zugänge können sich nicht mehr anmelden; ihre Daten bleiben erhalten."),
    )
    password1 = forms.CharField(
        label=_("Neues Passwort"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Leer lassen: bei neuen Zugängen geht eine Einladung mit einem Link zum Setzen des Passworts an die E-Mail-Adresse; bei bestehenden bleibt das Passwort unverändert."
        ),
    )
    password2 = forms.CharField(
        label=_("Passwort wiederholen"), required=False, strip=False, widget=forms.PasswordInput(render_value=False)
    )

    class Meta:
        model = PartnerUser
        fields = ["partner", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.instance.user if self.instance.pk else None
        if user is not None:
            for name in ["username", "first_name", "last_name", "email", "is_active"]:
                self.fields[name].initial = getattr(user, name)

    def clean(self):
        cleaned = super().clean()
        user = self.instance.user if self.instance.pk else None
        if user is not None and (user.is_staff or user.is_superuser):
            raise forms.ValidationError(
                _("Dieser Zugang ist ein Mitarbeiterkonto. Mitarbeiterkonten verwalten nur Administratoren.")
            )
        username = (cleaned.get("username") or "").strip()
        if username and User.objects.filter(username__iexact=username).exclude(pk=getattr(user, "pk", None)).exists():
            self.add_error("username", _("Dieser Benutzername ist schon vergeben."))
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 or p2:
            if p1 != p2:
                self.add_error("password2", _("Die beiden Passwörter stimmen nicht überein."))
            else:
                probe = user or User(username=username, email=cleaned.get("email", ""))
                try:
                    password_validation.validate_password(p1, probe)
                except forms.ValidationError as exc:
                    self.add_error("password1", exc)
        return cleaned


@admin.register(PartnerUser)
class PartnerUserAdmin(admin.ModelAdmin):
    form = PartnerUserForm
    list_display = ["username", "full_name", "email", "partner", "role", "is_active"]
    list_filter = ["role", "user__is_active"]
    search_fields = ["user__username", "user__email", "user__last_name", "partner__company"]
    list_select_related = ["user", "partner"]
    autocomplete_fields = ["partner"]
    fieldsets = [
        (None, {"fields": ["partner", "role"]}),
        (_("Zugang"), {"fields": ["username", "first_name", "last_name", "email", "is_active"]}),
        (_("Passwort"), {"fields": ["password1", "password2"]}),
    ]

    @admin.display(description=_("Benutzername"), ordering="user__username")
    def username(self, obj):
        return obj.user.get_username()

    @admin.display(description=_("Name"))
    def full_name(self, obj):
        return obj.user.get_full_name()

    @admin.display(description=_("E-Mail"), ordering="user__email")
    def email(self, obj):
        return obj.user.email

    @admin.display(boolean=True, description=_("aktiv"), ordering="user__is_active")
    def is_active(self, obj):
        return obj.user.is_active

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {k: data[k] for k in ["username", "first_name", "last_name", "email", "is_active"]}
        try:
            if change:
                services.partner_user_update(
                    partner_user=obj,
                    partner=data["partner"],
                    role=data["role"],
                    password=data["password1"] or None,
                    **fields,
                )
            else:
                saved = services.partner_user_create(
                    partner=data["partner"], role=data["role"], password=data["password1"] or None, **fields
                )
                obj.pk, obj.user = saved.pk, saved.user
                if not data["password1"]:
                    self.message_user(
                        request, _("Einladung an %(email)s verschickt.") % {"email": saved.user.email}, messages.SUCCESS
                    )
        except PortalError:
            raise  # handled in changeform_view: the transaction rolls back, the user sees why

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Two saves racing for one username pass the form's check together; the database
        # refuses the second, which then sees a message instead of a 500.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PortalError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ["company", "partner", "city"]
    list_filter = ["partner__level", "country"]
    search_fields = ["company", "partner__company"]
    list_select_related = ["partner"]
    autocomplete_fields = ["partner"]
    # Apps append their inlines here from their own admin module (licensing: installations).
    inlines: list = []
