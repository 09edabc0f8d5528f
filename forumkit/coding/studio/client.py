"""One client object for a Label Studio server, over label-studio-sdk.

It owns the SDK client and turns the SDK's and httpx's errors into
:class:`StudioError` lines that say what to do (server down, wrong token,
project gone), so that push and pull deal only in projects, tasks and pages of
tasks. Tasks are always read in pages: one request for a whole large project
(the JSON export) takes minutes and memory on the server, and fails for the
largest ones.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Any, Iterator

import httpx
from label_studio_sdk.client import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from .server import TOKEN_ENV, StudioError

#: Tasks per request when reading a project back (a page of tasks with their annotations is a few MB at most).
PAGE_SIZE = 500
#: Label Studio's longest project title: it refuses a longer one with HTTP 400.
TITLE_LIMIT = 50


def fit_title(title: str, suffix: str = "") -> str:
    """``title`` + ``suffix`` cut to Label Studio's limit, the suffix kept whole (it says what the project is)."""
    room = TITLE_LIMIT - len(suffix)
    return (title if len(title) <= room else title[:room - 1].rstrip() + "…") + suffix


class Studio:
    """A Label Studio server reached with an API token (the token is never shown in its repr or errors)."""

    def __init__(self, url: str, token: str, *, timeout: float = 300.0) -> None:
        self.url = url.rstrip("/")
        self._sdk = LabelStudio(base_url=self.url, api_key=token, timeout=timeout)

    def __repr__(self) -> str:
        return f"Studio({self.url!r})"

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
                                  hint=f"set {TOKEN_ENV} to the token of that server, or use the --workdir "
                                       f"`forumkit studio up` started it from") from exc
            if exc.status_code == 404:
                raise StudioError(f"Label Studio at {self.url} has no such object ({what})",
                                  hint="check the project id with `forumkit studio projects`") from exc
            detail = exc.body if isinstance(exc.body, str) else json.dumps(exc.body)[:300]
            raise StudioError(f"Label Studio refused to {what}: HTTP {exc.status_code} {detail}") from exc

    def check(self) -> None:
        """Fail early, with a clear message, if the server is down or the token wrong."""
        with self._call("list projects"):
            self._sdk.projects.list(page_size=1)

    def projects_described_with(self, marker: str) -> list[int]:
        """Ids of the projects whose description holds ``marker``: how forumkit finds its own projects."""
        with self._call("list projects"):
            return sorted(int(p.id) for p in self._sdk.projects.list(page_size=100)
                          if marker in (p.description or ""))

    def create_project(self, title: str, label_config: str, coders_per_task: int, description: str = "") -> int:
        with self._call("create a project"):
            project = self._sdk.projects.create(
                title=fit_title(title), label_config=label_config, description=description,
                maximum_annotations=coders_per_task, overlap_cohort_percentage=100, show_skip_button=True)
        return int(project.id)

    def update_project(self, project_id: int, *, label_config: str, coders_per_task: int, description: str) -> None:
        with self._call(f"update project {project_id}"):
            self._sdk.projects.update(id=project_id, label_config=label_config, description=description,
                                      maximum_annotations=coders_per_task, overlap_cohort_percentage=100)

    def import_tasks(self, project_id: int, tasks: list[dict]) -> list[int]:
        """Create ``tasks``; their new ids, in order. Fewer ids than tasks is an error, never a silent loss."""
        with self._call(f"import tasks into project {project_id}"):
            result = self._sdk.projects.import_tasks(id=project_id, request=tasks, return_task_ids=True)
        ids = [int(i) for i in (result.task_ids or [])]
        if len(ids) != len(tasks):
            raise StudioError(f"Label Studio answered {len(ids)} task ids for {len(tasks)} tasks imported into "
                              f"project {project_id}",
                              hint="run the same push again: it reads the project's tasks back and adds what is "
                                   "missing")
        return ids

    def task_pages(self, project_id: int, *, annotations: bool, page_size: int = PAGE_SIZE) -> Iterator[list[dict]]:
        """The project's tasks, a page (one request) at a time, in task id order.

        With ``annotations`` each task carries its annotations in full (who, when, how long, result); without,
        only its id, data and annotation ids, which is all a push needs to know which items are there.
        """
        if page_size < 1:
            raise StudioError(f"page size {page_size} is not a positive number", hint="give 1 or more")
        options: dict[str, Any] = {"fields": "all"} if annotations else {"include": "id,data,annotations"}
        page, seen = 1, 0
        while True:
            with self._call(f"read the tasks of project {project_id}"):
                pager = self._sdk.tasks.list(project=project_id, page=page, page_size=page_size, **options)
            tasks = [task.dict() for task in pager.items or ()]
            if not tasks:
                return
            yield tasks
            seen += len(tasks)
            if seen >= int(pager.response.total) or len(tasks) < page_size:
                return
            page += 1

    def task_count(self, project_id: int) -> int:
        """How many tasks the project holds now (one small request)."""
        with self._call(f"count the tasks of project {project_id}"):
            return int(self._sdk.tasks.list(project=project_id, page=1, page_size=1, include="id").response.total)

    def update_task_data(self, task_id: int, data: dict) -> None:
        """Replace a task's data (its annotations and predictions stay)."""
        with self._call(f"update task {task_id}"):
            self._sdk.tasks.update(id=task_id, data=data)

    def delete_tasks(self, task_ids: list[int]) -> None:
        with self._call("delete tasks"):
            for task_id in task_ids:
                self._sdk.tasks.delete(id=task_id)

    def delete_project(self, project_id: int) -> None:
        """Delete a project with its tasks and annotations (the demo clears its own server's earlier run)."""
        with self._call(f"delete project {project_id}"):
            self._sdk.projects.delete(id=project_id)

    def data_manager_columns(self, project_id: int) -> list[str]:
        """Ids of the Data Manager's columns of a project (``tasks:id``, ``tasks:data.title``, ...), as its tabs
        name them; a parent column (``tasks:data``) is left out, as only its children can be hidden."""
        with self._call(f"read the Data Manager columns of project {project_id}"):
            # the SDK has no method for this endpoint: its own HTTP client, with its authentication, calls it
            response = self._sdk._client_wrapper.httpx_client.request(
                "api/dm/columns/", method="GET", params={"project": project_id})
            if response.status_code >= 400:
                raise ApiError(status_code=response.status_code, headers=dict(response.headers), body=response.text)
        return [f"{c['target']}:" + (f"{c['parent']}." if c.get("parent") else "") + c["id"]
                for c in response.json()["columns"] if not c.get("children")]

    def views(self, project_id: int) -> list[dict]:
        """The project's Data Manager tabs (id, data with title and hidden columns, ordering), in tab order."""
        with self._call(f"list the Data Manager tabs of project {project_id}"):
            return [view.dict() for view in self._sdk.views.list(project=project_id)]

    def create_view(self, project_id: int, data: dict) -> int:
        """Add a Data Manager tab to the project; its id."""
        with self._call(f"create a Data Manager tab in project {project_id}"):
            return int(self._sdk.views.create(project=project_id, data=data).id)

    def update_view(self, view_id: int, project_id: int, data: dict) -> None:
        """Replace a tab's settings (its filters and ordering stay unless ``data`` names them)."""
        with self._call(f"update Data Manager tab {view_id}"):
            self._sdk.views.update(id=str(view_id), project=project_id, data=data)

    def order_views(self, project_id: int, view_ids: list[int]) -> None:
        """Put the project's tabs in this order (the Data Manager opens the first)."""
        with self._call(f"order the Data Manager tabs of project {project_id}"):
            self._sdk.views.update_order(ids=view_ids, project=project_id)

    def create_user(self, email: str, username: str) -> int:
        """Make a Label Studio account (an admin token may); its user id."""
        with self._call(f"create the user {username}"):
            return int(self._sdk.users.create(email=email, username=username, first_name=username).id)

    def users(self) -> dict[int, str]:
        """user id -> e-mail, to name the coder of each annotation."""
        with self._call("list users"):
            return {int(u.id): (u.email or u.username or str(u.id)) for u in self._sdk.users.list()}

    def annotate(self, task_id: int, *, user: int, result: list[dict], lead_time: float | None = None,
                 prediction: int | None = None) -> int:
        """Submit an annotation of ``task_id`` as ``user`` (an admin token may); ``prediction`` is the one it
        started from. Returns the annotation's id."""
        extra: dict[str, Any] = {} if prediction is None else {"parent_prediction": prediction}
        with self._call(f"annotate task {task_id}"):
            made = self._sdk.annotations.create(id=task_id, completed_by=user, result=result, lead_time=lead_time,
                                                **extra)
        return int(made.id)

    def label_config(self, project_id: int) -> str:
        """The project's labeling config XML as the server holds it now."""
        with self._call(f"read project {project_id}"):
            return str(self._sdk.projects.get(id=project_id).label_config or "")

    def validate_label_config(self, project_id: int, label_config: str) -> None:
        """Ask the server whether it would take ``label_config`` as the project's config, strictly: as the web
        interface's Save does, it refuses a config that lacks labels its annotations still use."""
        with self._call(f"check a labeling config for project {project_id}"):
            self._sdk.projects.validate_label_config(id=project_id, label_config=label_config)

    def set_label_config(self, project_id: int, label_config: str) -> None:
        """Replace the project's labeling config (nothing else of the project changes)."""
        with self._call(f"replace the labeling config of project {project_id}"):
            self._sdk.projects.update(id=project_id, label_config=label_config)

    def update_annotation(self, annotation_id: int, result: list[dict]) -> None:
        """Replace an annotation's result; its coder, times and task stay (Label Studio recounts the project's
        labels from the new result)."""
        with self._call(f"update annotation {annotation_id}"):
            self._sdk.annotations.update(id=annotation_id, result=result)

    def update_prediction(self, prediction_id: int, result: list[dict]) -> None:
        """Replace a prediction's result (its score and model version stay)."""
        with self._call(f"update prediction {prediction_id}"):
            self._sdk.predictions.update(id=prediction_id, result=result)

    def view_task_ids(self, project_id: int, view_id: int) -> list[int]:
        """Ids of the tasks a Data Manager tab shows (its filters applied), in id order."""
        ids: list[int] = []
        page = 1
        while True:
            with self._call(f"read the tasks of Data Manager tab {view_id}"):
                pager = self._sdk.tasks.list(project=project_id, view=view_id, page=page, page_size=PAGE_SIZE,
                                             include="id")
            found = [int(task.id) for task in pager.items or ()]
            ids += found
            if not found or len(ids) >= int(pager.response.total):
                return sorted(ids)
            page += 1

    @property
    def sdk(self) -> LabelStudio:
        """The underlying SDK client, for what forumkit does not wrap (tests create coders with it)."""
        return self._sdk


def item_id_of(task: dict, project_id: int) -> int:
    """The forumkit item a task codes (``data.item_id``, set by every push); an error for a foreign task."""
    try:
        return int(task["data"]["item_id"])
    except (KeyError, TypeError, ValueError):
        raise StudioError(f"task {task.get('id')} of Label Studio project {project_id} has no item_id in its data, "
                          f"so forumkit cannot tell which item it codes",
                          hint="delete that task in Label Studio (tasks are made by `forumkit studio push` only)") \
            from None
