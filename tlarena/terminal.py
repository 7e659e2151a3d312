"""Tables on a terminal that never cut a name a user has to type.

A table that fits the terminal with every name and number whole prints as a table; only prose
columns (a paper, a reason) wrap, at spaces. One that does not fit pivots: each row becomes a block
of ``column: value`` lines, so an 80-column terminal still shows ``domainnet-clipart->domainnet-real``.
"""
from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text


def fitted(console: Console, header: list[str], rows: list[list[str]], title: str,
           prose: tuple[str, ...] = (), numeric: tuple[str, ...] = ()) -> RenderableType:
    """``rows`` as a table if it fits ``console`` whole, else as one block per row."""
    table = Table(title=title)
    for name in header:
        wraps = name in prose
        table.add_column(name, justify="right" if name in numeric else "left",
                         no_wrap=not wraps, overflow="fold")
    for row in rows:
        # cells are data, not markup: "[cropped_digits]" or a plugin's error prints as written
        table.add_row(*(Text(str(cell)) for cell in row))
    needed = Measurement.get(console, console.options, table).minimum
    if needed <= console.width:
        return table
    return _blocks(header, rows, title)


def _blocks(header: list[str], rows: list[list[str]], title: str) -> Group:
    width = max(len(name) for name in header)
    lines: list[Text] = [Text(title, style="italic"), Text("")]
    for row in rows:
        lines.append(Text(str(row[0]), style="bold"))
        lines += [Text(f"  {name:<{width}}  {cell}") for name, cell in zip(header[1:], row[1:])]
        lines.append(Text(""))
    return Group(*lines)
