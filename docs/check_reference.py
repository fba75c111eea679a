"""Check that the built documentation documents every public name of the package.

Run it after the HTML build, on the build directory::

    python -m sphinx -W --keep-going -b html docs /tmp/docs_html
    python docs/check_reference.py /tmp/docs_html

It reads ``<builddir>/objects.inv``, the inventory of every object the build
documented (and indexed: entries marked ``:no-index:`` are not in it), and
checks each public module of ``django_learning_progress``:

* a public module is every module of the package whose dotted name has no
  part starting with an underscore, except the migrations, the management
  commands and the templates (of the package and of its subpackages);
* its public names are the names in its ``__all__`` when it defines one, else
  every function and class *defined* in the module (not imported into it)
  whose name does not start with an underscore.

A name counts as documented when the inventory holds it under the module
being checked, or under the module that defines it (a name that one module
re-exports in its ``__all__`` is documented where it is defined).

Missing names are printed, one per line, and the exit status is 1; 0 when
nothing is missing; 2 when the inventory cannot be read or a module cannot be
imported. Modules are imported with the documentation's Django settings
(``docs/django_settings.py``), as the Sphinx build does.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import posixpath
import sys
from pathlib import Path
from types import ModuleType

DOCS_DIR = Path(__file__).resolve().parent
REPO_ROOT = DOCS_DIR.parent
PACKAGE = "django_learning_progress"

#: Modules (and everything below them) that are not public API.
EXCLUDED = (
    f"{PACKAGE}.migrations",
    f"{PACKAGE}.management",
    f"{PACKAGE}.templates",
)


def setup_django() -> None:
    """Import the package the way ``docs/conf.py`` does, with the docs settings."""
    sys.path.insert(0, str(REPO_ROOT))
    sys.path.insert(0, str(DOCS_DIR))
    os.environ["DJANGO_SETTINGS_MODULE"] = "django_settings"
    import django

    django.setup()


def load_inventory(builddir: Path) -> set[str]:
    """Every Python object name in ``builddir/objects.inv``."""
    from sphinx.util.inventory import InventoryFile

    with open(builddir / "objects.inv", "rb") as stream:
        inventory = InventoryFile.load(stream, "", posixpath.join)
    return {
        name for kind, entries in inventory.items() if kind.startswith("py:") for name in entries
    }


#: The same in subpackages (``django_learning_progress.xapi.migrations``, ...).
EXCLUDED_PARTS = {"migrations", "management", "templates"}


def is_excluded(name: str) -> bool:
    if EXCLUDED_PARTS & set(name.split(".")[1:]):
        return True
    return any(name == prefix or name.startswith(prefix + ".") for prefix in EXCLUDED)


def public_modules(package: str = PACKAGE) -> list[str]:
    """Dotted names of the public modules of ``package`` and its subpackages.

    Excluded and private packages are not imported at all.
    """
    names = [package]
    path = importlib.import_module(package).__path__
    for info in pkgutil.iter_modules(path, prefix=package + "."):
        if is_excluded(info.name) or info.name.rsplit(".", 1)[1].startswith("_"):
            continue
        if info.ispkg:
            names.extend(public_modules(info.name))
        else:
            names.append(info.name)
    return sorted(names)


def _defined_here(obj: object, module: ModuleType) -> bool:
    target = inspect.unwrap(obj) if callable(obj) else obj  # lru_cache, wraps, ...
    if not (inspect.isclass(target) or inspect.isfunction(target)):
        return False
    return getattr(target, "__module__", None) == module.__name__


def public_names(module: ModuleType) -> list[str]:
    """``__all__``, or the functions and classes defined in ``module``."""
    exported = getattr(module, "__all__", None)
    if exported is not None:
        return list(exported)
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_") and _defined_here(obj, module)
    ]


def documented(module: ModuleType, name: str, inventory: set[str]) -> bool:
    if f"{module.__name__}.{name}" in inventory:
        return True
    obj = getattr(module, name, None)
    home = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    return bool(home and qualname and f"{home}.{qualname}" in inventory)


def missing_names(inventory: set[str]) -> list[str]:
    missing = []
    for dotted in public_modules():
        module = importlib.import_module(dotted)
        if dotted not in inventory:
            missing.append(f"{dotted} (module)")
        missing.extend(
            f"{dotted}.{name}"
            for name in public_names(module)
            if not documented(module, name, inventory)
        )
    return missing


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: python {argv[0]} BUILDDIR", file=sys.stderr)
        return 2
    builddir = Path(argv[1])
    try:
        inventory = load_inventory(builddir)
    except (OSError, ValueError) as exc:
        print(f"Cannot read {builddir / 'objects.inv'}: {exc}", file=sys.stderr)
        return 2
    setup_django()
    try:
        missing = missing_names(inventory)
    except ImportError as exc:
        print(f"Cannot import a module of {PACKAGE}: {exc}", file=sys.stderr)
        return 2
    if missing:
        print(f"{len(missing)} public names are not in {builddir / 'objects.inv'}:")
        for name in missing:
            print(f"  {name}")
        return 1
    print(f"Every public name of {PACKAGE} is documented.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
