"""Issued documents prove themselves (GoBD: kept unchanged, provably so).

Every stored PDF of an issued document — invoice and correction, delivery note, finance
report, Softwarepflege report — gets its SHA-256 written when the file is stored, in the
same ``save()`` (:func:`sha256_hex`). From then on:

- :func:`documents_check` reads every issued document's file and compares its hash; the
  ``check_documents`` command and the daily job (``vendorportal.tasks.documents_check_daily``)
  run it, the job records the result as a ``JobRun`` and the admin index shows the missing
  and changed documents of the last check (:func:`last_check_problems`).
- Every download view answers with :func:`document_response`: the stored bytes when the file
  is there and unchanged, else a German page for the user (status 404, never a 500) and an
  error in the log for staff. One function, so every view that serves a document — the
  portal's, the admin's, later ones — behaves the same.

The core knows no documents: an area registers its kinds (:func:`register_document_kind`,
from its ``AppConfig.ready``) by model label and the names of the file and hash fields.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from django.apps import apps
from django.http import FileResponse, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from vendorportal import clock

logger = logging.getLogger(__name__)

JOB_NAME = "documents-check"
CHUNK = 1024 * 1024
# How many problems the job's summary (and so the admin banner) lists by name.
LISTED_PROBLEMS = 50

MISSING = "missing"
CHANGED = "changed"
NO_HASH = "no-hash"
PENDING = "pending"  # not rendered yet (a delivery note before its first send)


@dataclass(frozen=True)
class DocumentKind:
    model: str  # "billing.Invoice"
    label: str  # German, for staff and users ("Rechnung")
    file_field: str = "pdf"
    hash_field: str = "pdf_sha256"


_KINDS: dict[str, DocumentKind] = {}


def register_document_kind(model: str, *, label: str, file_field: str = "pdf", hash_field: str = "pdf_sha256") -> None:
    """Declare a model whose stored file is an issued document (checked by :func:`documents_check`)."""
    _KINDS[model.lower()] = DocumentKind(model=model, label=label, file_field=file_field, hash_field=hash_field)


def registered_document_kinds() -> list[DocumentKind]:
    return list(_KINDS.values())


def _kind_of(document) -> DocumentKind | None:
    return _KINDS.get(document._meta.label_lower)


def sha256_hex(content: bytes) -> str:
    """The hash stored with a document's file, as 64 lower-case hex digits."""
    return hashlib.sha256(content).hexdigest()


def file_sha256(fieldfile) -> str:
    """SHA-256 of a stored file, read in chunks; raises ``FileNotFoundError`` when it is gone."""
    digest = hashlib.sha256()
    with fieldfile.storage.open(fieldfile.name, "rb") as stored:
        for chunk in iter(lambda: stored.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- the check ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentProblem:
    label: str  # "Rechnung"
    name: str  # "RE-2026-000001"
    path: str  # the file's name in the storage
    problem: str  # MISSING, CHANGED or NO_HASH

    def text(self) -> str:
        what = {
            MISSING: _("Datei fehlt"),
            CHANGED: _("Datei wurde verändert (Prüfsumme stimmt nicht)"),
            NO_HASH: _("keine Prüfsumme gespeichert"),
        }[self.problem]
        return f"{self.label} {self.name}: {what} ({self.path})"


@dataclass
class CheckResult:
    checked: int = 0
    problems: list[DocumentProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return ngettext(
                "%(count)s Dokument geprüft: vorhanden und unverändert.",
                "%(count)s Dokumente geprüft: alle vorhanden und unverändert.",
                self.checked,
            ) % {"count": self.checked}
        checked = ngettext("%(count)s Dokument geprüft", "%(count)s Dokumente geprüft", self.checked) % {
            "count": self.checked
        }
        bad = ngettext(
            "%(bad)s fehlt oder wurde verändert:", "%(bad)s fehlen oder wurden verändert:", len(self.problems)
        ) % {"bad": len(self.problems)}
        lines = [f"{checked}, {bad}"]
        lines += [f"- {p.text()}" for p in self.problems[:LISTED_PROBLEMS]]
        if len(self.problems) > LISTED_PROBLEMS:
            lines.append(_("… und %(count)s weitere.") % {"count": len(self.problems) - LISTED_PROBLEMS})
        return "\n".join(lines)


def _problem_of(document, kind: DocumentKind) -> str | None:
    fieldfile = getattr(document, kind.file_field)
    expected = getattr(document, kind.hash_field)
    try:
        actual = file_sha256(fieldfile)
    except FileNotFoundError:
        return MISSING
    if not expected:
        return NO_HASH
    return None if actual == expected else CHANGED


def documents_check() -> CheckResult:
    """Every issued document with a stored file: is the file there, is its hash the stored one?

    Documents whose file is not written yet (a delivery note before its first send) are not
    issued as a file and are skipped. Reads every file once; writes nothing.
    """
    result = CheckResult()
    for kind in registered_document_kinds():
        model = apps.get_model(kind.model)
        rows = model._base_manager.exclude(**{kind.file_field: ""}).order_by("pk")
        for document in rows.iterator(chunk_size=500):
            result.checked += 1
            problem = _problem_of(document, kind)
            if problem:
                result.problems.append(
                    DocumentProblem(kind.label, str(document), getattr(document, kind.file_field).name, problem)
                )
    return result


def documents_check_job() -> CheckResult:
    """The daily job: the check recorded as a ``JobRun`` (not ok when a document is missing
    or changed), which the admin index shows to staff until a later check is clean."""
    from vendorportal.models import JobRun

    run = JobRun.objects.create(name=JOB_NAME, started_at=clock.now())
    result = documents_check()
    run.summary = result.summary()
    run.ok = result.ok
    run.finished_at = clock.now()
    run.save(update_fields=["summary", "ok", "finished_at"])
    if not result.ok:
        logger.error("Document check: %s", run.summary)
    return result


def last_check_problems():
    """The last recorded check if it found problems (for the admin index), else ``None``."""
    from vendorportal.models import JobRun

    run = JobRun.objects.filter(name=JOB_NAME, finished_at__isnull=False).order_by("-started_at", "-pk").first()
    if run is None or run.ok:
        return None
    return run


# --- downloads ---------------------------------------------------------------------------------


def document_bytes(document, *, file_field: str | None = None) -> bytes:
    """The stored file's bytes, checked against the stored hash; raises ``FileNotFoundError``
    when the file is gone and :class:`DocumentChanged` when its hash does not match."""
    kind = _kind_of(document)
    fieldfile = getattr(document, file_field or (kind.file_field if kind else "pdf"))
    with fieldfile.storage.open(fieldfile.name, "rb") as stored:
        content = stored.read()
    expected = getattr(document, kind.hash_field, "") if kind else ""
    if expected and sha256_hex(content) != expected:
        raise DocumentChanged(fieldfile.name)
    return content


class DocumentChanged(Exception):
    """The stored file is not the one that was issued (its SHA-256 differs)."""


def _unavailable(request, document, problem: str) -> HttpResponse:
    kind = _kind_of(document)
    label = kind.label if kind else _("Dokument")
    if problem == PENDING:
        message = _(
            "Die PDF-Datei zu %(label)s %(name)s wird erst beim Versand erzeugt und liegt noch nicht vor. "
            "Bitte versuchen Sie es in einigen Minuten erneut."
        )
    elif problem == MISSING:
        message = _(
            "Die PDF-Datei zu %(label)s %(name)s ist derzeit nicht verfügbar. Wir wurden informiert und stellen "
            "sie wieder her. Bitte versuchen Sie es später erneut oder wenden Sie sich an uns."
        )
    else:
        message = _(
            "Die PDF-Datei zu %(label)s %(name)s stimmt nicht mit dem ausgestellten Dokument überein und wird "
            "deshalb nicht ausgeliefert. Wir wurden informiert. Bitte wenden Sie sich an uns."
        )
    message %= {"label": label, "name": str(document)}
    title = _("Dokument nicht verfügbar")
    in_admin = request.path.startswith("/admin/") and request.user.is_authenticated and request.user.is_staff
    if in_admin:
        from django.contrib import admin

        context = {**admin.site.each_context(request), "title": title, "message": message}
        return render(request, "admin/error.html", context, status=404)
    return render(request, "document_unavailable.html", {"title": title, "message": message}, status=404)


def document_response(request, document, *, filename: str, as_attachment: bool = True, file_field: str | None = None):
    """The stored document as a download — or, when its file is missing or was changed, a
    German page saying so (404) and an error in the log. Every download view calls this."""
    kind = _kind_of(document)
    if not getattr(document, file_field or (kind.file_field if kind else "pdf")):
        return _unavailable(request, document, PENDING)
    try:
        content = document_bytes(document, file_field=file_field)
    except FileNotFoundError:
        logger.error("Document %s (%s): the stored file is missing", document, document._meta.label)
        return _unavailable(request, document, MISSING)
    except DocumentChanged as exc:
        logger.error("Document %s (%s): the stored file %s was changed", document, document._meta.label, exc)
        return _unavailable(request, document, CHANGED)
    from io import BytesIO

    return FileResponse(
        BytesIO(content), as_attachment=as_attachment, filename=filename, content_type="application/pdf"
    )
