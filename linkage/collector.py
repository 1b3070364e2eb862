"""Python's cyclic garbage collector paused around bulk work.

A first link makes an object or more per record: millions of links, rows and dicts in seconds. Each
such object counts towards the collector's next pass, and at a million persons its passes took a
quarter of the planning (6 of 24 s) and a sixth of writing the import files. That work makes no
reference cycles worth collecting (its peak memory was the same with the collector paused), so the
collector is paused while it runs and resumes as soon as it ends.

    @collector_paused
    def plan(...): ...
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


def collector_paused(work: Callable[_P, _T]) -> Callable[_P, _T]:
    """`work` run with the cyclic garbage collector paused (and resumed after, if it was running)."""

    @wraps(work)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        if not gc.isenabled():
            return work(*args, **kwargs)
        gc.disable()
        try:
            return work(*args, **kwargs)
        finally:
            gc.enable()

    return paused
