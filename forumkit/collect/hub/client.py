"""One polite HTTP client for the Hugging Face Hub's ``GET /api/models``.

``HfApi.list_models`` cannot resume: it follows the ``Link`` cursor inside a
generator and forgets it. So the collector builds the first request exactly as
``list_models(full=True, cardData=True, fetch_config=True, sort="last_modified",
...)`` does (:func:`list_models_params`), then fetches page after page itself,
handing back each page's absolute ``Link: <...>; rel="next"`` URL to be
committed with the page's rows.

Politeness, in the order it applies to every request:

1. No request before a rate-limit window has reset: a 429's ``RateLimit:
   "api";r=0;t=N`` header (waits N + 1 s, as huggingface_hub does), else its
   ``Retry-After`` (seconds or an HTTP date), else exponential backoff with
   jitter. A 200 whose ``RateLimit`` says ``r=0`` blocks the next request too.
2. At most ``rate`` requests per minute (default 60, well under the anonymous
   quota of 500 API requests per 5 minutes).
3. 5xx, 408, timeouts, connection resets and bodies that are not a JSON
   array are retried with exponential backoff and jitter (tenacity), then
   raised as :class:`HubUnavailable` or :class:`HubBadResponse` naming the URL.

No token is ever sent (anonymous access, like ``HfApi(token=False)``), and
every request has a timeout.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx

from forumkit import __version__
from forumkit.collect.polite import PoliteClient, Transient, WaitCallback, retry_after_header
from forumkit.errors import HubBadResponse, HubRefused, HubUnavailable, RemoteError

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_USER_AGENT = (f"forumkit/{__version__} (research collector of Hub model metadata; "
                      "+https://pypi.org/project/forumkit/)")
DEFAULT_RATE = 60.0  # requests per minute; the anonymous quota is 500 per 5 minutes
RETRY_STATUSES = frozenset({408, 500, 502, 503, 504})


_RATELIMIT_T = re.compile(r"(?:^|;)\s*t\s*=\s*(\d+(?:\.\d+)?)")
_RATELIMIT_R = re.compile(r"(?:^|;)\s*r\s*=\s*(\d+)")


def resolve_endpoint(endpoint: str | None = None) -> str:
    """The Hub to ask: ``endpoint``, else $HF_ENDPOINT, else https://huggingface.co (no trailing slash)."""
    return (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def list_models_params(*, author: str | None = None, pipeline_tag: str | None = None,
                       limit: int | None = None) -> list[tuple[str, str]]:
    """The query of ``HfApi.list_models(full=True, cardData=True, fetch_config=True,
    sort="last_modified", author=..., pipeline_tag=..., limit=...)``, in its order and spelling.

    >>> urlencode(list_models_params(author="google", limit=5))
    'author=google&sort=lastModified&limit=5&full=true&config=true&cardData=true'
    """
    params: list[tuple[str, str]] = []
    if author:
        params.append(("author", author))
    if pipeline_tag:
        params.append(("pipeline_tag", pipeline_tag))
    params.append(("sort", "lastModified"))
    if limit is not None:
        params.append(("limit", str(limit)))
    params += [("full", "true"), ("config", "true"), ("cardData", "true")]
    return params


def ratelimit_wait(response: httpx.Response) -> float | None:
    """Seconds until the window resets when ``RateLimit: "api";r=0;t=N`` says none are left, else None."""
    header = response.headers.get("RateLimit")
    if not header:
        return None
    remaining, reset = _RATELIMIT_R.search(header), _RATELIMIT_T.search(header)
    if remaining is None or reset is None or int(remaining.group(1)) > 0:
        return None
    return float(reset.group(1)) + 1.0  # t is rounded to whole seconds: one more, as huggingface_hub waits


def retry_after(response: httpx.Response) -> float | None:
    """A 429's wait: the RateLimit header, else Retry-After (seconds or HTTP date); None if neither."""
    wait = ratelimit_wait(response)
    if wait is not None:
        return wait
    return retry_after_header(response.headers.get("Retry-After"))


@dataclass(frozen=True)
class HubPage:
    """One page of the listing: the entries as decoded JSON, and the absolute next URL (None on the last)."""

    url: str
    items: list[Any]
    next_url: str | None


class HubClient(PoliteClient):
    """Fetch ``/api/models`` pages from one Hub politely. Use as a context manager.

    >>> with HubClient("https://huggingface.co") as hub:  # doctest: +SKIP
    ...     page = hub.get_page(hub.models_url(author="google", limit=100))
    ...     page.items[0]["id"], page.next_url
    """

    unavailable = HubUnavailable
    bad_response = HubBadResponse

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        rate: float = DEFAULT_RATE,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 2.0,
        backoff_max: float = 120.0,
        on_wait: WaitCallback | None = None,
    ) -> None:
        self.endpoint = resolve_endpoint(endpoint)
        super().__init__(rate=rate, user_agent=user_agent, timeout=timeout, retries=retries, backoff=backoff,
                         backoff_max=backoff_max, on_wait=on_wait)

    def models_url(self, *, author: str | None = None, pipeline_tag: str | None = None,
                   limit: int | None = None) -> str:
        """The first listing URL, as ``list_models`` would request it (see :func:`list_models_params`)."""
        query = urlencode(list_models_params(author=author, pipeline_tag=pipeline_tag, limit=limit))
        return f"{self.endpoint}/api/models?{query}"

    # -- what the Hub does differently ----------------------------------------------

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        return retry_after(response)

    def _retryable(self, status: int) -> bool:
        return status in RETRY_STATUSES or status >= 500

    def _seen(self, response: httpx.Response) -> None:
        """A response (even a 200) whose ``RateLimit`` says no request is left blocks the next one."""
        quota_wait = ratelimit_wait(response)
        if quota_wait is not None and response.status_code != 429:
            self._pacer.block(quota_wait)

    def _refused(self, response: httpx.Response, url: str) -> RemoteError:
        status = response.status_code
        return HubRefused(f"{url} answered HTTP {status}{_error_text(response)}", url=url, status=status,
                          hint=_refusal_hint(status))

    def _check_body(self, body: Any) -> None:
        if not isinstance(body, list):
            raise Transient(f"a JSON {type(body).__name__} instead of an array of models", status=200,
                            bad_body=True)

    # -- requests ---------------------------------------------------------------

    def get_page(self, url: str) -> HubPage:
        """GET one listing URL (absolute) and return its entries and next URL, politely.

        Raises HubUnavailable, HubBadResponse or HubRefused, each naming the URL.
        """
        response, items = self.fetch(url)
        next_url = response.links.get("next", {}).get("url")
        return HubPage(url, items, urljoin(url, next_url) if next_url else None)


def _error_text(response: httpx.Response) -> str:
    """': <the Hub's error message>' from a JSON error body, or ''."""
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("error") if isinstance(body, dict) else None
    return f": {' '.join(str(message).split())}" if message else ""


def _refusal_hint(status: int) -> str:
    if status in (401, 403):
        return "the Hub refused anonymous access to this listing; check --endpoint"
    if status == 404:
        return "check --endpoint: it should be the Hub's base URL, e.g. https://huggingface.co"
    return "check --author, --pipeline-tag and --limit"
