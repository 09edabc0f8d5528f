"""One client object for a Label Studio server, over label-studio-sdk.

It owns the SDK client and turns the SDK's and httpx's errors into
:class:`StudioError` lines that say what to do (server down, wrong token,
project gone), so that push and pull deal only in projects, tasks and exports.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator

import httpx
from label_studio_sdk.client import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from .server import StudioError


class Studio:
    """A Label Studio server reached with an API token."""

    def __init__(self, url: str, token: str, *, timeout: float = 300.0) -> None:
        self.url = url.rstrip("/")
        self._sdk = LabelStudio(base_url=self.url, api_key=token, timeout=timeout)

    @contextmanager
    def _call(self, what: str) -> Iterator[None]:
        try:
            yield
        except httpx.TransportError as exc:
            raise StudioError(f"cannot reach Label Studio at {self.url} to {what} ({type(exc).__name__})",
                              hint="start it with `forumkit studio up`, or pass the right --url") from exc
        except ApiError as exc:
            if exc.status_code in (401, 403):
                raise StudioError(f"Label Studio at {self.url} rejected the API token ({exc.status_code})",
                                  hint="use the token `forumkit studio status` prints, or pass --token") from exc
            if exc.status_code == 404:
                raise StudioError(f"Label Studio at {self.url} has no such object ({what})",
                                  hint="check the project id with `forumkit studio projects`") from exc
            detail = exc.body if isinstance(exc.body, str) else json.dumps(exc.body)[:300]
            raise StudioError(f"Label Studio refused to {what}: HTTP {exc.status_code} {detail}") from exc

    def check(self) -> None:
        """Fail early, with a clear message, if the server is down or the token wrong."""
        with self._call("list projects"):
            self._sdk.projects.list(page_size=1)

    def create_project(self, title: str, label_config: str, coders_per_task: int, description: str = "") -> int:
        with self._call("create a project"):
            project = self._sdk.projects.create(
                title=title, label_config=label_config, description=description,
                maximum_annotations=coders_per_task, overlap_cohort_percentage=100, show_skip_button=True)
        return int(project.id)

    def update_project(self, project_id: int, *, label_config: str, coders_per_task: int) -> None:
        with self._call(f"update project {project_id}"):
            self._sdk.projects.update(id=project_id, label_config=label_config,
                                      maximum_annotations=coders_per_task, overlap_cohort_percentage=100)

    def import_tasks(self, project_id: int, tasks: list[dict]) -> list[int]:
        with self._call(f"import tasks into project {project_id}"):
            result = self._sdk.projects.import_tasks(id=project_id, request=tasks, return_task_ids=True)
        return list(result.task_ids or [])

    def task_count(self, project_id: int) -> int:
        with self._call(f"read project {project_id}"):
            return int(self._sdk.projects.get(id=project_id).task_number or 0)

    def export(self, project_id: int, *, all_tasks: bool) -> list[dict[str, Any]]:
        """The full JSON export: every task with its annotations (who, when, how long) and predictions."""
        with self._call(f"export project {project_id}"):
            chunks = self._sdk.projects.exports.download_sync(id=project_id, export_type="JSON",
                                                              download_all_tasks=all_tasks)
            return json.loads(b"".join(chunks))

    def users(self) -> dict[int, str]:
        """user id -> e-mail, to name the coder of each annotation."""
        with self._call("list users"):
            return {int(u.id): (u.email or u.username or str(u.id)) for u in self._sdk.users.list()}

    @property
    def sdk(self) -> LabelStudio:
        """The underlying SDK client, for what forumkit does not wrap (tests create coders with it)."""
        return self._sdk
