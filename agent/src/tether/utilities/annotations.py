"""Argument annotations for `.map()` (like `prefect.utilities.annotations`)."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class unmapped(Generic[T]):
    """Pass this argument as is to every mapped task run instead of iterating over it."""

    def __init__(self, value: T) -> None:
        self.value = value


class quote(Generic[T]):
    """Pass this argument without looking inside it for futures."""

    def __init__(self, value: T) -> None:
        self.value = value

    def unquote(self) -> T:
        return self.value


__all__ = ["quote", "unmapped"]
