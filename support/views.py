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

from licensing.constants import STARFACE
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
            "Logdaten öffnet der Support erst, wenn für den Kunden ein AV-Vertrag vorliegt (SUP-4). "
            "Archive und Dateien, die nach Logs aussehen, erkennen wir auch selbst."
        ),
    )


FORM_EXPIRED = gettext_lazy("Das Formular ist abgelaufen; bitte die Seite neu laden.")


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
    body = forms.CharField(label=gettext_lazy("Beschreibung"), widget=forms.Textarea(attrs={"rows": 10}))
    files = MultipleFileField(label=gettext_lazy("Anhänge"), help_text=FILES_HELP)
    log_data = log_data_field()

    def __init__(self, *args, partner, kind: str, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.kind = kind
        if not self.is_bound:
            self.initial["token"] = uuid.uuid4().hex
        self.fields["installation"].queryset = installations_for_partner(partner)
        # The label says STARFACE already; the options are the version numbers.
        self.fields["pbx_version"].label_from_instance = lambda version: version.number
        if kind in rules.KINDS_NEEDING_VERSIONS:
            for name in ("pbx_version", "product", "module_version"):
                self.fields[name].required = True
        if kind == rules.FEATURE_REQUEST:
            del self.fields["urgency"]

    def clean(self):
        data = super().clean()
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
    form = TicketForm(request.POST or None, request.FILES or None, partner=request.partner, kind=kind)
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
    return render(request, "portal/support/new.html", {"form": form, "kind": kind, "title": template_title})


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
