"""Progress bars: one kind for every command, on stderr, drawn only where someone watches.

A bar redraws its line with carriage returns and cursor escapes: fine on a terminal, noise in a log
file, a pipe or CI. So a bar is drawn when stderr is a terminal (or in a notebook, where tqdm draws a
widget) and left out otherwise; what a command prints besides its bars stays.
"""

from __future__ import annotations

import sys
from typing import Any


def progress_bar(iterable: Any = None, *, enabled: bool = True, **kwargs: Any) -> Any:
    """A tqdm bar on stderr (a widget in a notebook): ``enabled=False`` hides it, and so does a stderr that is no terminal.

    :param iterable: what to iterate over, as for tqdm
    :param enabled: False for ``--quiet`` and ``progress=False``
    :param kwargs: tqdm's own (``total``, ``desc``, ``unit``, ...)
    """
    from tqdm.auto import tqdm

    # disable=None is tqdm's "hide unless the file is a terminal" (a notebook shows its widget either way)
    return tqdm(iterable, file=sys.stderr, disable=None if enabled else True, **kwargs)
