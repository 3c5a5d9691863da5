"""The one exception tree of news-monitor.

    MonitorError                  every error we raise on purpose
    ├── ConfigError               the config file is missing, unreadable or invalid (carries every problem)
    ├── SourceError               a feed or seed file could not be turned into articles
    │   ├── FetchError            network: timeout, refused, too large, too many redirects, HTTP status
    │   ├── FeedParseError        the bytes are not a feed we can read
    │   └── SeedFileError         a seed file is unreadable or not UTF-8
    ├── OpmlError                 an OPML file to import is malformed or lists a feed we cannot follow
    └── StoreError                the database is unreachable or its schema is not ours

A webhook that does not take an event is no exception: the attempt's ``Outcome`` (alerts/delivery.py) says
so, and the outbox retries it.

Foreign errors (httpx, feedparser, SQLAlchemy, tomllib) are caught at the edge that calls the foreign
library and re-raised from this tree with ``raise ... from e``; each message names the feed, file, config
path or webhook it is about. Only the CLI turns these into messages and exit codes.

Every error here survives ``pickle``: feeds are parsed in worker processes, and an error that cannot be
rebuilt on the way back (the default ``Exception`` pickling calls ``cls(*args)``, which our constructors do
not accept) broke the whole process pool for good.
"""

from __future__ import annotations

from typing import Any


def _rebuild(cls: type[MonitorError], args: tuple[Any, ...], state: dict[str, Any]) -> MonitorError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class MonitorError(Exception):
    """Base of every error news-monitor raises on purpose."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its message and attributes, without calling a subclass's __init__.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class ConfigError(MonitorError):
    """The config is invalid; ``problems`` lists every problem found, each prefixed by its path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s) in config:\n{lines}")


class OpmlError(MonitorError):
    """An OPML file cannot be imported; ``problems`` lists every problem, each with its line or outline."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s), nothing imported:\n{lines}")


class SourceError(MonitorError):
    """A source (feed or seed file) could not be read; ``where`` names it."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")


class FetchError(SourceError):
    """The HTTP fetch failed; ``retry_after`` is the server's hint in seconds, if it gave one."""

    def __init__(
        self, where: str, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(where, message)
        self.status = status
        self.retry_after = retry_after


class FeedParseError(SourceError):
    """The body is not a feed."""


class SeedFileError(SourceError):
    """A seed file cannot be read as UTF-8 text."""


class StoreError(MonitorError):
    """The database is unreachable, or its schema is not one we know."""
