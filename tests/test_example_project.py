"""The example LMS (example_project/) sets up, seeds and serves, checked over HTTP.

Slow, and the first run needs PyPI (it makes example_project/.venv), so it
runs only when asked: ``RUN_DEMO_SMOKE=1 pytest tests/test_example_project.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "example_project" / "demo.py"
TIMEOUT = 600  # seconds; a fresh virtualenv with pip (no uv) takes a few minutes

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("RUN_DEMO_SMOKE") != "1",
        reason="set RUN_DEMO_SMOKE=1 to run the example project smoke test "
        "(it builds example_project/.venv and starts a server)",
    ),
    pytest.mark.skipif(not DEMO.exists(), reason="example_project/ is not in this tree (sdist)"),
]


def test_demo_smoke() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH"}}
    proc = subprocess.Popen(
        [sys.executable, str(DEMO), "--smoke"],
        cwd=DEMO.parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # A process group of its own: on a timeout, the demo's server goes too.
        start_new_session=os.name != "nt",
    )
    try:
        output, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        if os.name == "nt":
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f"demo.py --smoke took more than {TIMEOUT}s:\n{output[-10_000:]}")
    assert proc.returncode == 0, output[-10_000:]
    assert "SMOKE TEST PASSED" in output
