"""How every benchmark script runs its ``main``: a report piped into ``head`` ends the script
quietly with status 141, as it ends ``tlarena``, instead of a BrokenPipeError traceback."""
from __future__ import annotations

import sys
from typing import Callable


def run(main: Callable[[], object]) -> None:
    try:
        main()
        sys.stdout.flush()   # what is still buffered fails here, not in Python's flush at exit
    except BrokenPipeError:
        from tlarena.commands import reader_left

        raise SystemExit(reader_left()) from None
