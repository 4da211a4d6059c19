"""How the modules in local/moto patch moto: loudly, once.

Each patch replaces a method of one of moto's classes. `require` stops moto at start when
a name a patch relies on is gone (a moto upgrade must not drop a patch silently), and
`wrap` replaces a method only once per process, however often its module is imported.
"""

import inspect
from collections.abc import Callable
from typing import Any

import moto

_MARK = "_acm_cert_export_patch"


class PatchTargetMissing(RuntimeError):
    """moto no longer has what a patch in local/moto relies on."""


def require(owner: Any, *names: str) -> None:
    """Raises PatchTargetMissing unless `owner` has every attribute in `names`."""
    missing = [name for name in names if not hasattr(owner, name)]
    if missing:
        where = getattr(owner, "__qualname__", None) or getattr(owner, "__name__", repr(owner))
        raise PatchTargetMissing(
            f"moto {moto.__version__}: {where} has no {', '.join(missing)}; a patch in "
            "local/moto relies on it. Review the patch against this moto's source."
        )


def wrap(owner: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replaces `owner.name` by `make(original)`, unless this was done already.

    Plain methods and classmethods are both handled; `make` receives the plain function
    (for a classmethod, the function taking `cls`).
    """
    require(owner, name)
    current = inspect.getattr_static(owner, name)
    is_classmethod = isinstance(current, classmethod)
    original = current.__func__ if is_classmethod else current
    if getattr(original, _MARK, False):
        return
    if not callable(original):
        raise PatchTargetMissing(
            f"moto {moto.__version__}: {owner.__qualname__}.{name} is no longer a method"
        )
    replacement = make(original)
    setattr(replacement, _MARK, True)
    replacement.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(owner, name, classmethod(replacement) if is_classmethod else replacement)


def add(owner: type, name: str, function: Callable[..., Any]) -> None:
    """Adds a method moto lacks; refuses to hide one that a newer moto may have added."""
    existing = inspect.getattr_static(owner, name, None)
    if existing is not None:
        if getattr(existing, _MARK, False):
            return
        raise PatchTargetMissing(
            f"moto {moto.__version__}: {owner.__qualname__}.{name} exists now; the patch "
            "in local/moto that adds it would hide moto's own. Review the patch."
        )
    setattr(function, _MARK, True)
    setattr(owner, name, function)
