"""One exception tree for forumkit.

Every error a user can cause or meet (bad input, a forum that misbehaves, a
store that cannot be opened) is a :class:`ForumkitError`. Each carries what went
wrong and a hint of what to do, so that the CLI can print a single line
``error: <what>; <hint>`` and exit 1 instead of a traceback.

The tree::

    ForumkitError
    ├── UsageError           an option or argument that cannot work
    ├── StoreError           the SQLite store cannot be used
    ├── RemoteError          a remote service failed; carries ``url`` and ``status``
    │   ├── ForumError       ... a Discourse forum
    │   │   ├── ForumUnavailable, BadResponse, NotFound, RobotsDisallowed
    │   └── HubError         ... the Hugging Face Hub
    │       ├── HubUnavailable, HubBadResponse, HubRefused
    ├── StudioError          Label Studio cannot be installed, started, reached or used
    └── CodebookError        a codebook that cannot be read or is invalid
"""

from __future__ import annotations

from typing import Any, Sequence

#: What the CLI prints on Ctrl-C, wherever it lands (a crawl, a command, the start-up imports).
INTERRUPTED = "interrupted: everything stored so far is kept; run the same command again to resume"


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


class MapError(UsageError):
    """A codebook map (rename, merge, split, retire) that cannot be applied; ``problems`` holds one line per thing
    to fix, which `forumkit codebook diff|migrate` print each on its own line."""

    def __init__(self, problems: list[str], source: str) -> None:
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        super().__init__(f"{source}: {count}: {problems[0]}" + (" ..." if len(problems) > 1 else ""),
                         hint="fix the map (see docs/codebook-evolution.md)")
        self.problems = problems
        self.source = source


class StoreError(ForumkitError):
    """The SQLite store cannot be opened, is of another schema, or is missing data."""

    hint = "check the --db path, or scrape a forum into it first"


# -- remote services -----------------------------------------------------------


class RemoteError(ForumkitError):
    """A remote service answered in a way forumkit cannot use, or not at all.

    ``url`` is the request that failed, ``status`` its HTTP status (None when no
    answer came: a timeout, a reset). Collectors commit what they stored before
    each request, so the default hint is to run the command again.
    """

    hint = "nothing stored was lost: run the same command again to resume"

    def __init__(self, message: str, *, url: str, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url
        self.status = status


class ForumError(RemoteError):
    """A Discourse forum answered in a way the scraper cannot use."""


class ForumUnavailable(ForumError):
    """The forum kept failing (5xx, timeouts, resets, 429s) after every retry."""


class BadResponse(ForumError):
    """The forum sent something that is not the JSON the API promises (truncated, HTML)."""


class NotFound(ForumError):
    """The forum answered 404: the resource does not exist or is not public."""


class RobotsDisallowed(ForumError):
    """robots.txt forbids a path the crawl needs."""

    hint = "ask the forum's operators, or pass --ignore-robots if you have their permission"


class HubError(RemoteError):
    """The Hugging Face Hub answered in a way the collector cannot use."""


class HubUnavailable(HubError):
    """The Hub kept failing (5xx, timeouts, resets, 429s) after every retry."""


class HubBadResponse(HubError):
    """The Hub sent something that is not the JSON array of models the API promises."""


class HubRefused(HubError):
    """The Hub refused the request (4xx other than 429): a bad filter, a wrong endpoint, no access."""

    hint = "check --endpoint and the filters"


# -- the coding stage ------------------------------------------------------------


class StudioError(ForumkitError):
    """Label Studio cannot be installed, started, reached or used."""

    hint = "check `forumkit studio status`, or start it with `forumkit studio up`"


class CodebookError(ForumkitError):
    """A codebook that cannot be read, is invalid, or has no code by that id or path.

    ``problems`` holds the :class:`~forumkit.coding.codebook.validate.Problem` list when the error comes from
    validation.
    """

    hint = "check the file with: forumkit codebook validate FILE"

    def __init__(self, message: str, *, hint: str | None = None, problems: Sequence[Any] = ()) -> None:
        super().__init__(message, hint=hint)
        self.problems = list(problems)
