"""Database names that are unique to this checkout.

Two checkouts (or a checkout and a CI run) that share one PostgreSQL or
MariaDB server must never use the same database: each name gets a short,
stable hash of the checkout's absolute path. Standard library only.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# PostgreSQL truncates identifiers to 63 bytes and MariaDB refuses names over 64
# characters; a few characters are left for the suffixes test runners add to
# clones (``_1``, ``_gw0``).
MAX_LENGTH = 56


def checkout_hash(root: Path | str = REPO_ROOT) -> str:
    """First 8 hex digits of the SHA-1 of the checkout's absolute path."""
    return hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:8]


def database_name(base: str, prefix: str = "", root: Path | str = REPO_ROOT) -> str:
    """``<prefix><base>_<hash>``: non-word characters of ``base`` become ``_`` and
    ``base`` is shortened so that the whole name fits in ``MAX_LENGTH``."""
    suffix = "_" + checkout_hash(root)
    base = re.sub(r"\W", "_", base)[: MAX_LENGTH - len(prefix) - len(suffix)]
    return prefix + base + suffix
