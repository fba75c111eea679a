"""The channel layer groups: one per learner and one per course.

Channels accepts group names of ASCII letters, digits, ``-``, ``_`` and ``.``,
shorter than 100 characters. A key made only of those characters (an integer
or a UUID primary key) is used as it is; any other key is replaced by its
SHA-256 digest, so that every primary key maps to a valid name and two keys
never share a group.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

_PLAIN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _key(value: Any) -> str:
    text = str(getattr(value, "pk", value))
    if _PLAIN.fullmatch(text):
        return "k." + text
    return "h." + hashlib.sha256(text.encode()).hexdigest()


def user_group(user: Any) -> str:
    """The group of one learner's messages; ``user`` is a user or its primary key."""
    return "learning_progress.user." + _key(user)


def course_group(course: Any) -> str:
    """The group of one course's messages; ``course`` is a course or its primary key."""
    return "learning_progress.course." + _key(course)
