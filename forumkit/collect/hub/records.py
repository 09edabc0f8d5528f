"""Hub model entries -> typed records: pure parsing, no I/O.

Each item of ``GET /api/models?full=true&config=true&cardData=true`` goes
through huggingface_hub's own :class:`~huggingface_hub.hf_api.ModelInfo`
(dates to aware datetimes, ``cardData`` to ``ModelCardData``), and the fields
a study needs are derived from it:

``created_known``
    False when ``createdAt`` is missing or is the placeholder the Hub gives
    every repository created before creation dates were stored
    (``2022-03-02T23:29:04.000Z``; any time in that minute counts, since the
    migration stamped old repositories within seconds of it).
``model_type``
    ``config.model_type`` (transformers models; None for other libraries).
``base_models``
    the card's ``base_model`` (a string or a list), else the ``baseModels``
    property (a list of ids, or ``{"relation", "models": [{"id"}]}``).
``license``
    the card's ``license`` (a list is joined with ``,``), else the
    ``license:`` tags joined the same way.
``languages``, ``datasets``
    the card's ``language`` / ``datasets`` (a string or a list) as a list.
``has_metrics``
    the card lists ``metrics``, or its ``model-index`` gives evaluation
    results (as ``ModelCardData.eval_results`` parses them), or the entry has
    ``model-index`` / ``evalResults`` of its own (expand-only properties).
``has_model_index``
    a non-empty ``model-index`` in the card or in the entry, parseable or not.

An entry that cannot be used raises :class:`MalformedModel` with a one-line
problem: no ``id``, a date ``parse_datetime`` rejects, ``cardData``/``config``
that are not objects, ``tags`` that is not a list, or anything else
``ModelInfo`` refuses. Unknown fields are fine, and ``cardData: null`` (or an
empty card) is simply a model without card metadata.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

from ...store.records import HubModel

PLACEHOLDER_CREATED_AT = "2022-03-02T23:29:04.000Z"
_PLACEHOLDER_FROM = datetime(2022, 3, 2, 23, 29, 4, tzinfo=timezone.utc)
_PLACEHOLDER_UNTIL = datetime(2022, 3, 2, 23, 30, 0, tzinfo=timezone.utc)


class MalformedModel(ValueError):
    """An entry of the listing that cannot be stored; ``problem`` says why in one line."""

    def __init__(self, problem: str, model_id: str | None = None) -> None:
        super().__init__(problem)
        self.problem = " ".join(problem.split())
        self.model_id = model_id


def iso(moment: datetime | None) -> str | None:
    """An aware datetime as the store's ISO string, e.g. ``2022-03-02T23:29:04.000Z``."""
    if moment is None:
        return None
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _iso_of(raw: Any, parsed: datetime | None) -> str | None:
    """The store's string of a parsed date: the Hub's own string when it is already in that form."""
    if isinstance(raw, str) and _CANONICAL.fullmatch(raw):
        return raw
    return iso(parsed)


def is_placeholder(created: datetime | str | None) -> bool:
    """Whether a creation time is missing or the pre-March-2022 placeholder: not a real date.

    The one rule, for the Hub's datetimes and the store's ISO strings alike: any time in the placeholder's
    minute counts (the Hub has served it with other seconds and fractions), and so does a string that is
    not a date.

    >>> is_placeholder("2022-03-02T23:29:04.000Z"), is_placeholder("2022-03-02T23:30:00.000Z")
    (True, False)
    """
    if isinstance(created, str):
        try:
            created = datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            return True
        if created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
    return created is None or _PLACEHOLDER_FROM <= created < _PLACEHOLDER_UNTIL


_MODEL_INFO: Any = None


def _model_info_class() -> Any:
    """huggingface_hub's ModelInfo, imported on first use (keeps ``import forumkit`` fast)."""
    global _MODEL_INFO
    if _MODEL_INFO is None:
        from huggingface_hub.hf_api import ModelInfo

        _MODEL_INFO = ModelInfo
    return _MODEL_INFO


class _DropCardWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextmanager
def quiet_card_warnings() -> Iterator[None]:
    """Silence ModelCardData's "Invalid model-index" warnings while parsing a page.

    With ``ignore_metadata_errors=True`` a malformed model-index only loses its
    evaluation results; the warning would break the progress display.
    """
    logger = logging.getLogger("huggingface_hub.repocard_data")
    drop = _DropCardWarnings()
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def _type_name(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _strings(value: Any) -> tuple[str, ...]:
    """A string or a list of strings as a tuple (other values and items are dropped)."""
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, (list, tuple)):
        return tuple(v for v in value if isinstance(v, str) and v.strip())
    return ()


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _base_models(card: Any, base_models: Any) -> tuple[str, ...]:
    from_card = _strings(card.get("base_model")) if card is not None else ()
    if from_card:
        return from_card
    if isinstance(base_models, dict):
        base_models = base_models.get("models")
    if isinstance(base_models, list):
        return tuple(b if isinstance(b, str) else b.get("id") for b in base_models
                     if isinstance(b, str) or (isinstance(b, dict) and isinstance(b.get("id"), str)))
    return ()


def _license(card_license: Any, tags: tuple[str, ...]) -> str | None:
    names = _strings(card_license) or tuple(t[len("license:"):] for t in tags if t.startswith("license:"))
    return ",".join(names) if names else None


def parse_model(item: Any) -> HubModel:
    """One listing entry -> :class:`HubModel`, or :class:`MalformedModel` saying what is wrong."""
    if not isinstance(item, dict):
        raise MalformedModel(f"entry is {_type_name(item)}, not an object")
    model_id = item.get("id")
    if not isinstance(model_id, str) or not model_id.strip():
        raise MalformedModel("entry has no id" if model_id is None else f"id is {_type_name(model_id)}")
    card = item.get("cardData", item.get("card_data"))
    for key, value in (("cardData", card), ("config", item.get("config"))):
        if value is not None and not isinstance(value, dict):
            raise MalformedModel(f"{key} is {_type_name(value)}, not an object", model_id)
    if item.get("tags") is not None and not isinstance(item["tags"], list):
        raise MalformedModel(f"tags is {_type_name(item['tags'])}, not an array", model_id)
    for key in ("pipeline_tag", "library_name", "author"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise MalformedModel(f"{key} is {_type_name(item[key])}, not a string", model_id)
    try:
        info = _model_info_class()(**item)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedModel(f"{type(exc).__name__}: {exc}", model_id) from exc

    card = card or None  # an empty card is no card
    card_data = info.card_data if card is not None else None
    config = info.config if isinstance(info.config, dict) else {}
    tags = _strings(info.tags)
    model_type = config.get("model_type")
    model_index = card.get("model-index") if card is not None else None
    own_index = item.get("model-index") or item.get("model_index") or item.get("evalResults")
    return HubModel(
        id=model_id,
        author=info.author or (model_id.split("/", 1)[0] if "/" in model_id else None),
        created_at=_iso_of(item.get("createdAt"), info.created_at),
        created_known=not is_placeholder(info.created_at),
        last_modified=_iso_of(item.get("lastModified"), info.last_modified),
        pipeline_tag=info.pipeline_tag,
        library_name=info.library_name,
        model_type=model_type if isinstance(model_type, str) and model_type else None,
        base_models=_base_models(card, item.get("baseModels")),
        tags=tags,
        downloads=_count(info.downloads),
        likes=_count(info.likes),
        card_data=card,
        license=_license(card.get("license") if card is not None else None, tags),
        languages=_strings(card.get("language")) if card is not None else (),
        datasets=_strings(card.get("datasets")) if card is not None else (),
        has_metrics=bool(card_data is not None and (card_data.metrics or card_data.eval_results) or own_index),
        has_model_index=bool(model_index or item.get("model-index") or item.get("model_index")),
    )
