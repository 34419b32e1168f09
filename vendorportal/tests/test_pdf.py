"""The one PDF service: a process freezes its long-lived objects after its first document."""

import gc

from vendorportal import pdf


def test_the_first_document_freezes_what_the_process_holds_and_later_ones_do_not_again(monkeypatch):
    monkeypatch.setattr(pdf, "_frozen", False)
    gc.unfreeze()
    try:
        first = pdf._html_pdf("<p>Erstes Dokument</p>")
        frozen = gc.get_freeze_count()
        second = pdf._html_pdf("<p>Zweites Dokument</p>")
        assert first.startswith(b"%PDF") and second.startswith(b"%PDF")
        assert frozen > 1000  # Django, WeasyPrint, fonts: everything alive after the first render
        # The second render froze nothing more (frozen objects still die by reference count).
        assert gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
