"""The core works without Django Channels; the live app says what to install."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HAS_CHANNELS = importlib.util.find_spec("channels") is not None


@pytest.mark.skipif(HAS_CHANNELS, reason="only meaningful without Channels (tox -e nodrf)")
def test_live_import_names_the_extra() -> None:
    with pytest.raises(ImportError, match=r"django-learning-progress\[live\]"):
        importlib.import_module("django_learning_progress.live")


def test_core_never_imports_channels() -> None:
    code = (
        "import sys, django; django.setup()\n"
        "import django_learning_progress.admin, django_learning_progress.services\n"
        "import django_learning_progress.helpers, django_learning_progress.signals\n"
        "from django.core.management import call_command\n"
        "call_command('check')\n"
        "bad = [m for m in sys.modules if m.startswith(('channels', 'daphne'))\n"
        "       or m.startswith('django_learning_progress.live')]\n"
        "assert not bad, bad\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
        "DB_BACKEND": "sqlite",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
