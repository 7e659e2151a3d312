"""Tables on a terminal that never cut a name a user has to type.

A table that fits the terminal with every name and number whole prints as a table; only prose
columns (a paper, a reason) wrap, at spaces. One that does not fit pivots: each row becomes a block
of ``column: value`` lines, so an 80-column terminal still shows ``domainnet-clipart->domainnet-real``.
"""
from __future__ import annotations

import textwrap

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text


def fitted(console: Console, header: list[str], rows: list[list[str]], title: str,
           prose: tuple[str, ...] = (), numeric: tuple[str, ...] = (),
           transposable: bool = False) -> RenderableType:
    """``rows`` as a table if it fits ``console`` with no header or word cut; else, if
    ``transposable``, the table turned (columns become rows); else one block per row. The first
    column (the names) and ``numeric`` ones never wrap; others wrap at spaces."""
    table = _table(console, header, rows, title, prose, numeric)
    if table is None and transposable and rows:
        turned = [[name, *(str(row[i]) for row in rows)] for i, name in enumerate(header) if i]
        table = _table(console, ["", *(str(row[0]) for row in rows)], turned, title, (), ())
    return table if table is not None else _blocks(header, rows, title, console.width)


def _table(console: Console, header: list[str], rows: list[list[str]], title: str,
           prose: tuple[str, ...], numeric: tuple[str, ...]) -> Table | None:
    whole = {0} | {i for i, name in enumerate(header) if name in numeric}
    widths = [max([len(name)] + [_longest(str(row[i]), i in whole) for row in rows])
              for i, name in enumerate(header)]
    # every column: a space of padding each side and one rule; plus the last rule
    if sum(widths) + 3 * len(header) + 1 > console.width:
        return None
    table = Table(title=title)
    for i, name in enumerate(header):
        table.add_column(name, justify="right" if name in numeric else "left", min_width=widths[i],
                         no_wrap=i in whole, overflow="fold", ratio=1 if name in prose else None)
    for row in rows:
        # cells are data, not markup: "[cropped_digits]" or a plugin's error prints as written
        table.add_row(*(Text(str(cell)) for cell in row))
    return table


def _longest(text: str, whole: bool) -> int:
    return len(text) if whole else max((len(word) for word in text.split()), default=0)


def _blocks(header: list[str], rows: list[list[str]], title: str, columns: int) -> Group:
    width = max(len(name) for name in header)
    indent = " " * (width + 4)
    lines: list[Text] = [Text(title, style="italic"), Text("")]
    for row in rows:
        lines.append(Text(str(row[0]), style="bold"))
        for name, cell in zip(header[1:], row[1:]):
            # a long value wraps under itself, at spaces only: a name is never cut
            wrapped = textwrap.wrap(str(cell), max(columns - len(indent), 20), break_long_words=False,
                                    break_on_hyphens=False) or [""]
            lines += [Text(f"  {name:<{width}}  {wrapped[0]}".rstrip()),
                      *(Text(indent + more) for more in wrapped[1:])]
        lines.append(Text(""))
    return Group(*lines)
