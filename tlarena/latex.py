"""Tables as LaTeX that compiles as written in any document with booktabs, and reads as typed.

Every character LaTeX treats specially is escaped by hand, not only pandas' ten: with the default
OT1 font encoding ``>`` prints as ``¿``, so a pair ``mnist->usps`` would read ``mnist-¿usps``. A
long header breaks over two lines (a pair after its arrow), so a board of four pairs is narrower.
"""
from __future__ import annotations

import pandas as pd

# one character at a time, so that no replacement is escaped again; with the default OT1 encoding
# < > print as ¡ ¿ and × as Ö, and pdflatex's utf8 input has no ≥ or ≤
_WRITTEN = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "<": r"\textless{}", ">": r"\textgreater{}", "±": r"$\pm$", "Δ": r"$\Delta$", "→": r"$\to$",
            "×": r"$\times$", "≥": r"$\geq$", "≤": r"$\leq$", "·": r"$\cdot$", "–": "--", "—": "---",
            "…": r"\dots{}"}
LONG_HEADER = 10     # characters: a header longer than this breaks at the space nearest its middle


def escaped(text: str) -> str:
    """``text`` as LaTeX text mode prints it, character for character."""
    if "->" in text:    # a pair: its arrow, not "-" and ">"
        return r" $\to$ ".join(escaped(part) for part in text.split("->"))
    return "".join(_WRITTEN.get(char, char) for char in text)


def header(name: str) -> str:
    """A column header, on two lines when long: ``source ->`` over ``target``, or at a space."""
    if "->" in name:
        source, _, target = name.partition("->")
        lines = [escaped(source) + r" $\to$", escaped(target)]
    elif len(name) > LONG_HEADER and " " in name:
        spaces = [i for i, char in enumerate(name) if char == " "]
        middle = min(spaces, key=lambda i: abs(i - len(name) / 2))
        lines = [escaped(name[:middle]), escaped(name[middle + 1:])]
    else:
        return escaped(name)
    return r"\begin{tabular}[b]{@{}l@{}}" + r"\\ ".join(lines) + r"\end{tabular}"


def tabular(table: pd.DataFrame) -> str:
    """``table`` as a booktabs tabular: names escaped, numbers to four significant digits."""
    body = table.astype(object).map(lambda value: f"{value:.4g}" if isinstance(value, float)
                                    else escaped(str(value)))
    body.columns = [header(str(c)) for c in table.columns]
    return body.to_latex(index=False, escape=False)
