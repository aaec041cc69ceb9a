"""The `with` protocol of objects that hold a connection (sources, state stores).

Owns one thing: `with obj:` closes `obj` at the end. Protocols that describe such objects
inherit `Closing`, and implementations inherit it too to get `__enter__`/`__exit__` for free.
"""
from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self


class Closing(Protocol):
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
