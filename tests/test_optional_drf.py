"""The core works without Django REST framework; the API says what to install."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HAS_DRF = importlib.util.find_spec("rest_framework") is not None


@pytest.mark.skipif(HAS_DRF, reason="only meaningful where DRF is not installed (tox -e nodrf)")
def test_api_import_names_the_extra() -> None:
    with pytest.raises(ImportError, match=r"django-learning-progress\[drf\]"):
        importlib.import_module("django_learning_progress.api")


def test_core_never_imports_drf() -> None:
    code = (
        "import sys, django; django.setup()\n"
        "import django_learning_progress.admin, django_learning_progress.services\n"
        "import django_learning_progress.helpers, django_learning_progress.mixins\n"
        "import django_learning_progress.signals, django_learning_progress.checks\n"
        "from django.core.management import call_command\n"
        "call_command('check')\n"
        "bad = [m for m in sys.modules if m.startswith(('rest_framework', 'django_filters'))]\n"
        "assert not bad, bad\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_nodrf",
        "PYTHONPATH": str(ROOT),
        "DB_BACKEND": "sqlite",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
