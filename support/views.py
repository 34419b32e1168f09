"""Support pages of the partner portal (issue 11/12): tickets, new ticket, detail with
replies and attachments, the knowledge base, bug report and feature request. Thin: check
access (``partner_required``), take objects through partner-scoped selectors (another
partner's id → 404), call one service, render."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from licensing.constants import AUERSWALD, STARFACE
from licensing.models import ModuleVersion, PbxVersion, Product
from licensing.selectors.parties import installations_for_partner
from support import rules, selectors, services
from support.exceptions import SupportError
from support.knowledge import render_markdown
from support.models import Article, Attachment, Ticket
from vendorportal import clock
from vendorportal.portal.access import partner_required


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > services.MAX_ATTACHMENTS_PER_MESSAGE:
            raise ValidationError(
                _("Höchstens %(n)s Dateien je Nachricht.") % {"n": services.MAX_ATTACHMENTS_PER_MESSAGE}
            )
        cleaned = [super(MultipleFileField, self).clean(f, initial) for f in files]
        for upload in cleaned:
            try:
                services.attachment_check(upload)
            except SupportError as exc:
                raise ValidationError(exc.message) from None
        return cleaned


def _files_help() -> str:
    # The one limit of portal and e-mail (services.MAX_ATTACHMENTS_PER_MESSAGE), in the
    # language of the request, hence lazy.
    return _("Bis zu %(n)s Dateien, je höchstens %(mb)s MB: Text, Log, PDF, Bilder, ZIP.") % {
        "n": services.MAX_ATTACHMENTS_PER_MESSAGE,
        "mb": services.MAX_ATTACHMENT_BYTES // (1024 * 1024),
    }


FILES_HELP = lazy(_files_help, str)()


def log_data_field() -> forms.BooleanField:
    # SUP-4: the partner may say so himself; archives and log-like files are found anyway.
    return forms.BooleanField(
        label=gettext_lazy("enthält Logdaten"),
        required=False,
        help_text=gettext_lazy(
            "Logdaten öffnet der Support erst, wenn für den Kunden ein AV-Vertrag vorliegt. "
            "Archive und Dateien, die nach Logs aussehen, erkennen wir auch selbst."
        ),
    )


FORM_EXPIRED = gettext_lazy("Das Formular ist abgelaufen; bitte die Seite neu laden.")


class InstallationSelect(forms.Select):
    """The installation drop-down: each option says its customer (the label) and carries
    its system (``data-vendor``) and, for an Auerswald system, its Softwarepflege state
    (``data-swp``), which ``ticket-form.js`` shows next to the fitting fields."""

    def __init__(self, *args, swp: dict[int, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.swp = swp or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        installation = getattr(value, "instance", None)
        if installation is not None:
            option["attrs"]["data-vendor"] = installation.vendor
            if installation.pk in self.swp:
                option["attrs"]["data-swp"] = self.swp[installation.pk]
        return option


def installation_label(installation) -> str:
    """ "Bäckerei Brezel — BRZL1-… (STARFACE Appliance) · Filiale": the customer first, so a
    partner with many customers finds the system by whom it belongs to."""
    label = f"{installation.customer.company} — {installation.identifier} ({installation.get_edition_display()})"
    return f"{label} · {installation.name}" if installation.name else label


STARFACE_FIELDS = ("pbx_version", "product", "module_version")
AUERSWALD_FIELDS = ("serial_number", "firmware_version", "call_assist_version")


class TicketForm(forms.Form):
    # One-time token (as billing's order form): the same form posted twice opens one ticket.
    token = forms.CharField(
        widget=forms.HiddenInput,
        max_length=40,
        error_messages={"required": FORM_EXPIRED, "max_length": FORM_EXPIRED},
    )
    installation = forms.ModelChoiceField(
        label=gettext_lazy("Installation"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("— keine —"),
        error_messages={"invalid_choice": gettext_lazy("Diese Installation gibt es bei Ihren Kunden nicht.")},
    )
    # Which fields fit is decided by the chosen installation; without one, by this choice.
    system = forms.ChoiceField(
        label=gettext_lazy("System"),
        choices=[(STARFACE, "STARFACE"), (AUERSWALD, gettext_lazy("Auerswald (COMtrexx)"))],
        initial=STARFACE,
        required=False,
        widget=forms.RadioSelect,
        help_text=gettext_lazy("Nur nötig, wenn oben keine Installation gewählt ist."),
        error_messages={"invalid_choice": gettext_lazy("Bitte STARFACE oder Auerswald wählen.")},
    )
    urgency = forms.ChoiceField(
        label=gettext_lazy("Dringlichkeit"),
        choices=Ticket.URGENCY_CHOICES,
        initial="normal",
        error_messages={"invalid_choice": gettext_lazy("Bitte kritisch, hoch, normal oder niedrig wählen.")},
    )
    subject = forms.CharField(label=gettext_lazy("Betreff"), max_length=200)
    pbx_version = forms.ModelChoiceField(
        label=gettext_lazy("STARFACE-Version"),
        queryset=PbxVersion.objects.filter(vendor=STARFACE).order_by("-released_on"),
        to_field_name="number",
        required=False,
        empty_label=gettext_lazy("— bitte wählen —"),
        error_messages={"invalid_choice": gettext_lazy("Diese STARFACE-Version kennen wir nicht.")},
    )
    product = forms.ModelChoiceField(
        label=gettext_lazy("Modul"),
        queryset=Product.objects.filter(kind=Product.MODULE),
        required=False,
        empty_label=gettext_lazy("— bitte wählen —"),
        error_messages={"invalid_choice": gettext_lazy("Dieses Modul gibt es nicht.")},
    )
    module_version = forms.CharField(
        label=gettext_lazy("Modulversion"), max_length=20, required=False, help_text=gettext_lazy("z. B. 2.1")
    )
    serial_number = forms.CharField(
        label=gettext_lazy("Seriennummer"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("Kann leer bleiben, wenn oben das System gewählt ist."),
    )
    firmware_version = forms.CharField(
        label=gettext_lazy("Firmware-Version"),
        max_length=20,
        required=False,
        help_text=gettext_lazy(
            "z. B. 2.0.3 — PBX Call Assist 5 braucht auf einer COMtrexx die Firmware 2.0.3 oder neuer."
        ),
    )
    call_assist_version = forms.CharField(
        label=gettext_lazy("PBX-Call-Assist-Version"),
        max_length=20,
        required=False,
        help_text=gettext_lazy("z. B. 5.1"),
    )
    body = forms.CharField(label=gettext_lazy("Beschreibung"), widget=forms.Textarea(attrs={"rows": 10}))
    files = MultipleFileField(label=gettext_lazy("Anhänge"), help_text=FILES_HELP)
    log_data = log_data_field()

    def __init__(self, *args, partner, kind: str, swp: dict[int, str] | None = None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.versions_required = kind in rules.KINDS_NEEDING_VERSIONS
        if not self.is_bound:
            self.initial["token"] = uuid.uuid4().hex
        installation = self.fields["installation"]
        installation.widget = InstallationSelect(swp=swp)  # before the queryset, which gives it the choices
        installation.queryset = installations_for_partner(partner)
        installation.label_from_instance = installation_label
        # The label says STARFACE already; the options are the version numbers.
        self.fields["pbx_version"].label_from_instance = lambda version: version.number
        if kind == rules.FEATURE_REQUEST:
            del self.fields["urgency"]

    def _group(self, names) -> list:
        return [self[name] for name in names if name in self.fields]

    @property
    def head_fields(self) -> list:
        return self._group(("installation", "system", "urgency", "subject"))

    @property
    def starface_fields(self) -> list:
        return self._group(STARFACE_FIELDS)

    @property
    def auerswald_fields(self) -> list:
        return self._group(AUERSWALD_FIELDS)

    @property
    def tail_fields(self) -> list:
        return self._group(("body", "files", "log_data"))

    def selected_installation(self):
        """The installation chosen (posted, or preset by ``?installation=``), if valid."""
        if self.is_bound:
            return self.cleaned_data.get("installation") if hasattr(self, "cleaned_data") else None
        pk = self.initial.get("installation")
        return self.fields["installation"].queryset.filter(pk=pk).first() if pk else None

    def clean(self):
        data = super().clean()
        installation = data.get("installation")
        data["vendor"] = installation.vendor if installation else (data.get("system") or STARFACE)
        if self.versions_required:
            # SUP-7: the fields of the ticket's system, not those of the other one.
            for name in STARFACE_FIELDS if data["vendor"] == STARFACE else AUERSWALD_FIELDS:
                if name == "serial_number" and installation is not None:
                    continue  # the chosen system names its serial number
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, self.fields[name].error_messages["required"])
        if data["vendor"] == STARFACE:
            product, version = data.get("product"), data.get("module_version")
            if product and version and not ModuleVersion.objects.filter(product=product, version=version).exists():
                self.add_error(
                    "module_version", _("Version %(v)s von %(p)s gibt es nicht.") % {"v": version, "p": product.name}
                )
        return data


class ReplyForm(forms.Form):
    # One-time token, as on the new-ticket form: the same reply posted twice is stored once.
    token = forms.CharField(
        widget=forms.HiddenInput,
        max_length=40,
        error_messages={"required": FORM_EXPIRED, "max_length": FORM_EXPIRED},
    )
    body = forms.CharField(label=gettext_lazy("Ihre Antwort"), widget=forms.Textarea(attrs={"rows": 6}))
    files = MultipleFileField(label=gettext_lazy("Anhänge"), help_text=FILES_HELP)
    log_data = log_data_field()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["token"] = uuid.uuid4().hex


def _ticket_or_404(request, pk: int) -> Ticket:
    try:
        return selectors.partner_ticket(partner=request.partner, pk=pk)
    except Ticket.DoesNotExist:
        raise Http404(_("Dieses Ticket gibt es nicht oder es gehört nicht zu Ihnen.")) from None


@partner_required
def ticket_list(request):
    tickets = selectors.tickets_for_partner(request.partner)
    status = request.GET.get("status", "")
    if status in dict(Ticket.STATUS_CHOICES):
        tickets = tickets.filter(status=status)
    return render(
        request,
        "portal/support/list.html",
        {"tickets": tickets[:200], "status": status, "statuses": Ticket.STATUS_CHOICES, "title": _("Support")},
    )


def _ticket_create(request, kind: str, template_title: str):
    swp = selectors.partner_system_swp(request.partner, clock.today())
    initial = {}
    preset = request.GET.get("installation", "")
    if request.method != "POST" and preset.isdigit() and len(preset) <= 9:  # an id the column can hold
        initial["installation"] = int(preset)
    form = TicketForm(
        request.POST or None, request.FILES or None, partner=request.partner, kind=kind, swp=swp, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            ticket = services.ticket_open(
                partner=request.partner,
                by=request.user,
                kind=kind,
                urgency=d.get("urgency") or rules.NORMAL,
                subject=d["subject"],
                body=d["body"],
                installation=d.get("installation"),
                pbx_version=d["pbx_version"].number if d.get("pbx_version") else "",
                product=d.get("product"),
                module_version=d.get("module_version") or "",
                vendor=d["vendor"],
                serial_number=d.get("serial_number") or "",
                firmware_version=d.get("firmware_version") or "",
                call_assist_version=d.get("call_assist_version") or "",
                files=d.get("files") or [],
                files_are_log_data=bool(d.get("log_data")),
                portal_token=d["token"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except SupportError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Ticket %(n)s ist angelegt.") % {"n": ticket.number})
            return redirect("portal:support_ticket", pk=ticket.pk)
    selected = form.selected_installation()
    return render(
        request,
        "portal/support/new.html",
        {
            "form": form,
            "kind": kind,
            "title": template_title,
            "selected_vendor": selected.vendor if selected else "",
            "selected_swp": swp.get(selected.pk, "") if selected else "",
        },
    )


@partner_required
def ticket_new(request):
    kind = request.GET.get("art") or request.POST.get("art") or rules.SUPPORT_REQUEST
    if kind not in (rules.SUPPORT_REQUEST, rules.INSTALLATION_SUPPORT):
        kind = rules.SUPPORT_REQUEST
    return _ticket_create(request, kind, _("Neues Ticket"))


@partner_required
def bug_report(request):
    return _ticket_create(request, rules.BUG_REPORT, _("Fehler melden"))


@partner_required
def feature_request(request):
    return _ticket_create(request, rules.FEATURE_REQUEST, _("Funktionswunsch"))


@partner_required
def ticket_detail(request, pk: int):
    ticket = _ticket_or_404(request, pk)
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.ticket_reply(
                ticket=ticket,
                by=request.user,
                body=form.cleaned_data["body"],
                from_staff=False,
                files=form.cleaned_data["files"],
                files_are_log_data=bool(form.cleaned_data.get("log_data")),
                portal_token=form.cleaned_data["token"],
            )
        except SupportError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Ihre Antwort ist gespeichert."))
            return redirect("portal:support_ticket", pk=ticket.pk)
    notice = selectors.version_notice(ticket)
    system_notices = selectors.system_notices(ticket, clock.today())
    dpa_missing = not selectors.dpa_on_file(ticket.customer, clock.today())
    incompatible = selectors.mentions_incompatibility(ticket)
    return render(
        request,
        "portal/support/detail.html",
        {
            "ticket": ticket,
            "messages_public": selectors.public_messages(ticket),
            "orphan_attachments": ticket.attachments.filter(message__isnull=True),
            "form": form,
            "version_notice": notice,
            "system_notices": system_notices,
            "incompatible": incompatible,
            "incompatibility_article": selectors.incompatibility_article() if incompatible else None,
            # SUP-4: the customer's log files wait for a DPA (AV-Vertrag) before staff open them;
            # each such file says why it counts as log data.
            "dpa_notice": dpa_missing and ticket.attachments.filter(is_log=True).exists(),
            "logs_locked": dpa_missing,
            "title": f"{ticket.number}: {ticket.subject}",
        },
    )


@partner_required
def attachment_download(request, pk: int, attachment_pk: int):
    try:
        attachment = selectors.partner_attachment(partner=request.partner, ticket_pk=pk, pk=attachment_pk)
    except Attachment.DoesNotExist:
        raise Http404(_("Diese Datei gibt es nicht oder sie gehört nicht zu Ihnen.")) from None
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


@partner_required
def knowledge_base(request):
    query = (request.GET.get("q") or "").strip()[:100]
    tag = (request.GET.get("tag") or "").strip()[:60]
    articles = selectors.articles_for_partner(partner=request.partner, on=clock.today(), query=query, tag=tag)
    return render(
        request,
        "portal/support/kb_list.html",
        {"articles": articles, "q": query, "tag": tag, "title": _("Wissensdatenbank")},
    )


@partner_required
def article_detail(request, slug: str):
    try:
        article = selectors.article_for_partner(partner=request.partner, on=clock.today(), slug=slug)
    except Article.DoesNotExist:
        raise Http404(_("Diesen Artikel gibt es nicht.")) from None
    return render(
        request,
        "portal/support/kb_article.html",
        {"article": article, "html": render_markdown(article.body), "title": article.title},
    )


def waiting_panel(request, partner):
    """Dashboard panel: tickets waiting for the partner's answer."""
    tickets = list(selectors.tickets_waiting_for_partner(partner)[:10])
    return {"tickets": tickets}
