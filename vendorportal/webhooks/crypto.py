"""The endpoints' signing secrets, encrypted at rest (issue 19 decision).

Signing needs the secret itself, so a hash (as for API tokens) will not do. It is stored
encrypted with Fernet (AES-128-CBC + HMAC-SHA256, ``cryptography``) under a key derived from
``SECRET_KEY`` by HKDF with its own label: a copy of the database alone does not give away
the secrets. ``SECRET_KEY_FALLBACKS`` decrypt too, so rotating ``SECRET_KEY`` in Django's way
keeps every endpoint working (the secret is re-encrypted on its next rotation). The partner
sees a secret once, when it is made; staff never see it.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

INFO = b"vendorportal webhook endpoint secret v1"


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def _keys() -> MultiFernet:
    return MultiFernet([_fernet(settings.SECRET_KEY), *(_fernet(k) for k in settings.SECRET_KEY_FALLBACKS)])


def secret_encrypt(secret: str) -> str:
    return _keys().encrypt(secret.encode("utf-8")).decode("ascii")


def secret_decrypt(token: str) -> str:
    return _keys().decrypt(token.encode("ascii")).decode("utf-8")
