"""Named things registered by plugins: duplicates refused with both origins, "did you mean" on misses."""
from __future__ import annotations

import difflib
from typing import Generic, Iterator, TypeVar

T = TypeVar("T")


class UnknownName(LookupError):
    """A name nobody registered; the message suggests the closest registered names."""


class RegistrationError(ValueError):
    """A plugin registered something invalid or a name already taken."""


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._origins: dict[str, str] = {}

    def add(self, name: str, item: T, origin: str) -> None:
        if name in self._items:
            raise RegistrationError(
                f"{self.kind} {name!r} from {origin} is already registered by {self._origins[name]}"
            )
        self._items[name] = item
        self._origins[name] = origin

    def get(self, name: str) -> T:
        if name not in self._items:
            raise UnknownName(unknown_message(self.kind, name, self._items))
        return self._items[name]

    def origin(self, name: str) -> str:
        return self._origins[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return (self._items[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._items)


def unknown_message(kind: str, name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown {kind} {name!r}.{hint} (`tlarena list {kind}s` shows them all)"
