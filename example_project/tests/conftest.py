"""Tests of the example LMS, run with its own settings (``tox -e example``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    """The seed creates nine accounts: hash their passwords quickly in tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db: None) -> dict[str, Any]:
    """The demo data of ``manage.py seed_demo``."""
    import json
    from io import StringIO

    out = StringIO()
    call_command("seed_demo", "--json", stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())
