"""Command-line usage errors and the parsers of list-valued options, shared by cli and commands."""
from __future__ import annotations

import re

_PAIR = re.compile(r"^[^,\s]+->[^,\s]+$")


class UsageError(Exception):
    """A mistake on the command line: reported in one line, exit status 2."""


def csv_items(text: str) -> list[str]:
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise UsageError(f"empty item in list {text!r}")
    return items


def seed_list(text: str) -> list[int]:
    try:
        return [int(s) for s in csv_items(text)]
    except ValueError:
        raise UsageError(f"--seeds takes whole numbers separated by commas, e.g. 0,1,2; got {text!r}")


def pair_names(text: str) -> list[str]:
    pairs = csv_items(text)
    for pair in pairs:
        if not _PAIR.match(pair):
            raise UsageError(f"malformed pair {pair!r}: write SOURCE->TARGET, e.g. "
                             f"synth-digits->uci-digits (quote it in the shell)")
    return pairs
