"""One exception tree for forumkit.

Every error a user can cause or meet (bad input, a forum that misbehaves, a
store that cannot be opened) is a :class:`ForumkitError`. Each carries what went
wrong and a hint of what to do, so that the CLI can print a single line
``error: <what>; <hint>`` and exit 1 instead of a traceback.
"""

from __future__ import annotations

from typing import Any, Sequence


class ForumkitError(Exception):
    """Root of all forumkit errors.

    ``message`` says what is wrong, ``hint`` what the user can do about it.
    """

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def one_line(self) -> str:
        """The error as the CLI prints it: one line, message then hint."""
        text = " ".join(self.message.split())
        return f"{text}; {self.hint}" if self.hint else text


class UsageError(ForumkitError):
    """An option or argument that cannot work (a bad date, an unknown table)."""


class StoreError(ForumkitError):
    """The SQLite store cannot be opened, is of another schema, or is missing data."""

    hint = "check the --db path, or scrape a forum into it first"


class ForumError(ForumkitError):
    """A forum answered in a way the scraper cannot use. Carries the URL."""

    hint = "nothing stored was lost: run the same command again to resume"

    def __init__(self, message: str, *, url: str, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url
        self.status = status


class ForumUnavailable(ForumError):
    """The forum kept failing (5xx, timeouts, resets) after every retry."""


class BadResponse(ForumError):
    """The forum sent something that is not the JSON the API promises (truncated, HTML)."""


class NotFound(ForumError):
    """The forum answered 404: the resource does not exist or is not public."""


class RobotsDisallowed(ForumError):
    """robots.txt forbids a path the crawl needs."""

    hint = "ask the forum's operators, or pass --ignore-robots if you have their permission"


class CodebookError(ForumkitError):
    """A codebook that cannot be read, is invalid, or has no code by that id or path.

    ``problems`` holds the :class:`~forumkit.coding.codebook.validate.Problem` list when the error comes from validation.
    """

    hint = "check the file with: forumkit codebook validate FILE"

    def __init__(self, message: str, *, hint: str | None = None, problems: Sequence[Any] = ()) -> None:
        super().__init__(message, hint=hint)
        self.problems = list(problems)
