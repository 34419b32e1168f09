"""What the API's test modules share: a request with a token, the partners and tokens."""

from __future__ import annotations

import json

from django.test import Client

BASE = "/api/v1"


def call(method, path, secret=None, body=None, **headers):
    client = Client()
    if secret:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    kwargs = {"content_type": "application/json", "data": json.dumps(body)} if body is not None else {}
    return getattr(client, method)(f"{BASE}{path}", **kwargs, **headers)


def content(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content
