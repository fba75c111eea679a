"""Sphinx configuration for django-learning-progress.

Build from the repository root with::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Intersphinx links to the Python and Django documentation need network access
to fetch their inventories, so they are off by default (the build must pass
offline with ``-W``). Turn them on with ``DOCS_INTERSPHINX=1``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

DOCS_DIR = Path(__file__).resolve().parent
REPO_ROOT = DOCS_DIR.parent

# The repository root provides the package and the test host app
# (tests.testapp), the docs directory provides django_settings.py.
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(DOCS_DIR))

os.environ["DJANGO_SETTINGS_MODULE"] = "django_settings"

import django  # noqa: E402

django.setup()

from django_learning_progress import __version__  # noqa: E402

# -- Project -------------------------------------------------------------------

project = "django-learning-progress"
author = "django-learning-progress contributors"
copyright = "django-learning-progress contributors"
release = __version__
version = ".".join(__version__.split(".")[:2])

# -- General -------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# -- autodoc / napoleon ----------------------------------------------------------

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
# Django's own docstrings (ModelAdmin.get_search_fields, ...) are not ours to show.
autodoc_inherit_docstrings = False
autodoc_default_options = {"exclude-members": "DoesNotExist, MultipleObjectsReturned"}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# -- intersphinx -----------------------------------------------------------------

# Django publishes its inventory under _objects/, not next to the pages.
# DRF is documented with MkDocs and publishes no Sphinx inventory, so it is not
# listed here.
_INTERSPHINX = {
    "python": ("https://docs.python.org/3", None),
    "django": (
        "https://docs.djangoproject.com/en/5.2/",
        "https://docs.djangoproject.com/en/5.2/_objects/",
    ),
}
intersphinx_mapping = _INTERSPHINX if os.environ.get("DOCS_INTERSPHINX") == "1" else {}
intersphinx_timeout = 10

# -- HTML ------------------------------------------------------------------------

html_theme = "furo" if importlib.util.find_spec("furo") else "alabaster"
html_title = f"django-learning-progress {release}"
