from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.views.static import serve


@staff_member_required
def staff_media(request, path):
    """Uploaded files (decommissioning proofs, stored PDFs) are for staff only."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)
