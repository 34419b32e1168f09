"""Core admin: the job log, the outbox, and staff accounts for superusers only."""

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename, get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .admin_site import SuperuserOnly
from .errors import PortalError
from .models import JobRun, OutboxMessage
from .outbox import FLAG_AFTER_ATTEMPTS, kind_label, outbox_resend, registered_kinds

admin.site.area_add(
    "parties",
    title=_("Partner und Kunden"),
    order=10,
    models=["parties.partnerlevel", "parties.partner", "parties.partneruser", "parties.customer"],
)
admin.site.area_add(
    "users",
    title=_("Benutzer und Rechte"),
    order=80,
    models=["auth.user", "auth.group", "security.staffgrouppolicy", "otp_totp.totpdevice", "axes.accessattempt"],
)
admin.site.area_add(
    "operations",
    title=_("Betrieb"),
    order=90,
    models=["vendorportal.jobrun", "vendorportal.outboxmessage", "vendorportal.documentsequence"],
)


User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class StaffUserAdmin(SuperuserOnly, UserAdmin):
    pass


@admin.register(Group)
class StaffGroupAdmin(SuperuserOnly, GroupAdmin):
    pass


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    # The result in the list itself (issue 20): what a run billed, sent, skipped or failed.
    list_display = ["name", "started_at", "finished_at", "ok", "result"]
    list_filter = ["name", "ok"]
    search_fields = ["name", "summary"]
    readonly_fields = ["name", "started_at", "finished_at", "ok", "summary"]

    @admin.display(description=_("Ergebnis"))
    def result(self, obj):
        """The summary's lines in one line, shortened; a run without end says so."""
        from django.utils.text import Truncator

        text = " · ".join(line.strip() for line in obj.summary.splitlines() if line.strip())
        if obj.finished_at is None:
            text = text or str(_("läuft noch oder wurde abgebrochen"))
        return Truncator(text).chars(240)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OutboxStateFilter(admin.SimpleListFilter):
    title = _("Status")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("failing", _("fehlgeschlagen (%(n)s+ Versuche)") % {"n": FLAG_AFTER_ATTEMPTS}),
            ("unsent", _("noch nicht gesendet")),
            ("sent", _("gesendet")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "failing":
            return queryset.filter(sent_at__isnull=True, attempts__gte=FLAG_AFTER_ATTEMPTS)
        if self.value() == "unsent":
            return queryset.filter(sent_at__isnull=True)
        if self.value() == "sent":
            return queryset.filter(sent_at__isnull=False)
        return queryset


class OutboxKindFilter(admin.SimpleListFilter):
    """The kinds by their German labels (registered in code, not stored)."""

    title = _("Art")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return registered_kinds()

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Every e-mail the portal sends (STYLE 13). Read-only: an e-mail is written by the
    service that creates its document; staff may only send it again."""

    list_display = [
        "created_at",
        "kind_display",
        "recipients_display",
        "subject_display",
        "state",
        "attempts",
        "sent_at",
    ]
    list_filter = [OutboxStateFilter, OutboxKindFilter]
    search_fields = ["dedup_key", "subject", "recipients"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["resend"]
    fields = [
        "kind_display",
        "dedup_key",
        "recipients_display",
        "from_email",
        "subject_display",
        "body_display",
        "document_type",
        "document_id",
        "created_at",
        "due_at",
        "after_display",
        "attempts",
        "last_error",
        "sent_at",
        "claimed_by",
        "claimed_until",
    ]
    readonly_fields = fields

    @admin.display(description=_("erst nach"))
    def after_display(self, obj):
        """The e-mails this one waits for (ORD-2: an invoice after its delivery notes)."""
        rows = list(obj.after.order_by("pk"))
        if not rows:
            return "–"
        return "; ".join(
            f"{row.subject or row.dedup_key} ({gettext('gesendet') if row.sent_at else gettext('noch nicht gesendet')})"
            for row in rows
        )

    @admin.display(description=_("Betreff"))
    def subject_display(self, obj):
        return obj.subject or _("(entsteht beim Versand)")

    @admin.display(description=_("Text"))
    def body_display(self, obj):
        if obj.body:
            return obj.body
        if obj.sent_at is not None:
            # Kinds that store no text (set-password links) never keep it.
            return _("(enthält einen Link zum Setzen des Passworts und wird nicht gespeichert)")
        return _("(entsteht beim Versand)")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_resend_permission(self, request):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('resend', opts)}")

    @admin.display(description=_("Art"), ordering="kind")
    def kind_display(self, obj):
        return kind_label(obj.kind)

    @admin.display(description=_("Empfänger"))
    def recipients_display(self, obj):
        return ", ".join(obj.recipients)

    @admin.display(description=_("Status"))
    def state(self, obj):
        if obj.sent_at:
            return gettext("gesendet")
        if obj.attempts >= FLAG_AFTER_ATTEMPTS:
            return format_html('<strong style="color:#ba2121">{}</strong>', gettext("fehlgeschlagen"))
        return gettext("wartet")

    @admin.action(description=_("erneut senden"), permissions=["resend"])
    def resend(self, request, queryset):
        count = 0
        for message in queryset:
            try:
                with transaction.atomic():
                    outbox_resend(message=message)
            except PortalError as refused:
                self.message_user(request, refused.message, messages.WARNING)
                continue
            self.log_change(request, message, gettext("E-Mail erneut zum Versand eingeplant."))
            count += 1
        if not count:
            return
        self.message_user(
            request,
            ngettext(
                "%(count)d E-Mail wird erneut gesendet.",
                "%(count)d E-Mails werden erneut gesendet.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
