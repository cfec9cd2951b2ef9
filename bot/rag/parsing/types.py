"""What a parser returns, and the one error type that carries a one-line reason for the person."""

from __future__ import annotations

from dataclasses import dataclass, field


class ParseError(Exception):
    """A document kbot cannot index; `reason` is short, specific, and says what to do where it can."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Section:
    text: str
    page: int | None = None
    heading: str | None = None


@dataclass
class ParsedDocument:
    kind: str  # pdf | docx | markdown | text | html
    sections: list[Section]
    title: str | None = None
    url: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return len({s.page for s in self.sections if s.page is not None})


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    pdf_timeout_s: float = 60.0
    pdf_memory_mb: int = 1024
    url_timeout_s: float = 20.0
