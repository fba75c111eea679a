"""Shared by the fresh-project scripts (run.py, quickstart.py): commands, the wheel, venvs.

Standard library only; the scripts import it as a sibling module.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 600  # seconds, per command
# 8 hex digits of the SHA-1 of the checkout's path, in every database name a script
# creates, so that two checkouts sharing one database server never collide (the same
# hash as tests/dbnames.py, which the scripts cannot import).
CHECKOUT_HASH = hashlib.sha1(str(REPO_ROOT).encode()).hexdigest()[:8]


class StepFailed(Exception):
    """A command failed, or its output was not what was expected."""

    def __init__(self, what: str, output: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.output = output


def indent(text: str) -> str:
    return textwrap.indent(text.rstrip() or "(no output)", "    ")


def run(
    cmd: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` with stdout and stderr merged; raise StepFailed on a non-zero exit."""
    shown = " ".join(cmd)
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode()
        raise StepFailed(f"$ {shown}  (timed out after {COMMAND_TIMEOUT}s)", out) from None
    except OSError as exc:
        raise StepFailed(f"$ {shown}  (could not start: {exc})") from None
    if check and proc.returncode != 0:
        raise StepFailed(
            f"$ {shown}  (exit {proc.returncode}, in {cwd or os.getcwd()})", proc.stdout
        )
    return proc


def build_wheel(outdir: Path) -> Path:
    if shutil.which("uv"):
        cmd = ["uv", "build", "--wheel", "--out-dir", str(outdir), str(REPO_ROOT)]
    elif importlib.util.find_spec("build") is not None:
        cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", str(outdir), str(REPO_ROOT)]
    else:
        raise StepFailed(
            "cannot build the wheel: neither uv nor the 'build' package is available"
            " (pass --wheel PATH)"
        )
    run(cmd, cwd=REPO_ROOT)
    wheels = sorted(outdir.glob("*.whl"))
    if len(wheels) != 1:
        raise StepFailed(f"expected one wheel in {outdir}, found {[w.name for w in wheels]}")
    return wheels[0]


def venv_bin(venv: Path, name: str) -> Path:
    if os.name == "nt":
        return venv / "Scripts" / (name + ".exe")
    return venv / "bin" / name
