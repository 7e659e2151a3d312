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
    table = _table(console, header, rows, prose, numeric)
    if table is None and transposable and rows:
        turned = [[name, *(str(row[i]) for row in rows)] for i, name in enumerate(header) if i]
        table = _table(console, ["", *(str(row[0]) for row in rows)], turned, (), ())
    if table is None:
        return _blocks(header, rows, title, console.width)
    # the title on a line of its own, not centred and wrapped to the width of a narrow table
    return Group(Text(title, style="italic"), table)


def _table(console: Console, header: list[str], rows: list[list[str]],
           prose: tuple[str, ...], numeric: tuple[str, ...]) -> Table | None:
    whole = {0} | {i for i, name in enumerate(header) if name in numeric}
    widths = [max([len(name)] + [_longest(str(row[i]), i in whole) for row in rows])
              for i, name in enumerate(header)]
    # every column: a space of padding each side and one rule; plus the last rule
    room = console.width - 3 * len(header) - 1
    if sum(widths) > room:
        return None
    natural = [max([len(name)] + [len(str(row[i])) for row in rows]) for i, name in enumerate(header)]
    # rich shrinks wrapping columns evenly, then widens those below their minimum again, and can
    # overflow the terminal: when wrapping is needed, the widths are set here (sum(widths) <= room)
    widths = _shared_out(widths, natural, room) if sum(natural) > room else [None] * len(header)
    table = Table()
    for i, name in enumerate(header):
        table.add_column(name, justify="right" if name in numeric else "left", width=widths[i],
                         no_wrap=i in whole, overflow="fold", ratio=1 if name in prose else None)
    for row in rows:
        # cells are data, not markup: "[cropped_digits]" or a plugin's error prints as written
        table.add_row(*(Text(str(cell)) for cell in row))
    return table


def _shared_out(least: list[int], natural: list[int], room: int) -> list[int]:
    """Column widths from ``natural`` down to fit ``room``: one character at a time off the widest
    column still above its ``least`` width, so narrow columns keep a line each."""
    widths = list(natural)
    for _ in range(sum(natural) - room):
        widest = max((i for i, (width, most) in enumerate(zip(widths, least)) if width > most),
                     key=lambda i: widths[i])
        widths[widest] -= 1
    return widths


def _longest(text: str, whole: bool) -> int:
    return len(text) if whole else max((len(word) for word in text.split()), default=0)


def counted(count: int, noun: str) -> str:
    """``1 seed``, ``3 seeds``: what a person writes (the nouns here take an s)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def paragraph(text: str, columns: int, indent: str = "", hanging: str | None = None) -> Text:
    """``text`` wrapped to ``columns`` at spaces, its first line after ``indent``, the others after
    ``hanging`` (default: the same): names (``importance-resampling``) are never split, and no
    line ends in padding."""
    hanging = indent if hanging is None else hanging
    lines = textwrap.wrap(text, max(columns, 20 + len(hanging)), initial_indent=indent,
                          subsequent_indent=hanging, break_long_words=False, break_on_hyphens=False)
    return Text("\n".join(lines))


def labelled(label: str, style: str, text: str, columns: int, hanging: str) -> Text:
    """``label text`` with the label in ``style``: each line of ``text`` a paragraph of its own,
    wrapped under ``hanging`` (a warning, the reason runs failed)."""
    lines = [paragraph(line, columns, hanging=hanging) for line in f"{label} {text}".splitlines()]
    lines[0].stylize(style, 0, len(label))
    return Text("\n").join(lines)


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
