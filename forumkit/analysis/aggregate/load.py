"""Coded tables for aggregation: from a pulled Label Studio project or from a CSV/Parquet file.

Both sources give the same tidy columns (:data:`COLUMNS`): ``item``, ``code`` (missing on a row that only
says "this item was coded and got no code": it counts in denominators), ``date`` (UTC, or NaT),
``forum_category``, ``coder``, ``weight``, ``codebook_version`` (the version the code was given under; on
a row without a code, the version(s) the project codes with, so that each version's denominators are whole)
and ``round`` (the coding round of the code's project: ``round N`` from ``studio_projects.round``, and
``project N`` for a project outside rounds; from a file, its round column as written).
Files are read in batches (:func:`iter_coded`), so a table of any length can be aggregated without holding it
in memory.

Dates: ISO-8601 in any of its usual shapes (``2023-01-05``, ``2023-01-05T10:00:00Z``,
``2023-01-05 11:00:00+01:00``, fractions of seconds), converted to UTC; a value without an offset is taken as
UTC. A column of numbers (or of strings that are all digits) is read as Unix epoch seconds. Timestamp columns
of a Parquet file are used as they are (naive ones taken as UTC). Anything else (``05/01/2023`` is
ambiguous) stops with one error naming the column and the value.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import numpy as np
import pandas as pd

from forumkit.analysis.categories import category_key
from forumkit.errors import UsageError
from forumkit.store import Store

__all__ = ["COLUMNS", "VIEWS", "CONSENSUS", "load_coded", "iter_coded", "parse_dates", "project_codebooks",
           "canonical_names", "round_label", "every_project_codebooks"]

log = logging.getLogger(__name__)

#: Columns of :func:`load_coded` and of every chunk of :func:`iter_coded`, in order.
COLUMNS = ("item", "code", "date", "forum_category", "coder", "weight", "codebook_version", "round")
VIEWS = ("consensus", "coders")
#: The coder of consensus codes, and of files without a coder column (their codes are taken as agreed).
CONSENSUS = "consensus"
UNKNOWN_CODER = "(unknown)"
BATCH_ROWS = 250_000
_LAST_YEAR = 2200  # epoch numbers beyond this are milliseconds or nanoseconds, not seconds
_DIGITS = re.compile(r"^\s*-?\d+(\.\d*)?\s*$")
_DATE_HINT = ("write dates as ISO-8601 (2023-01-05, 2023-01-05T10:00:00Z, 2023-01-05 11:00:00+01:00) "
              "or as Unix epoch seconds")


# -- dates and names ------------------------------------------------------------------------------------------------

def parse_dates(values: pd.Series, column: str = "date", source: str = "the coded table") -> pd.Series:
    """UTC timestamps (``datetime64[us, UTC]``) from ISO-8601 strings, epoch seconds or timestamps; empty -> NaT."""
    values = pd.Series(values).reset_index(drop=True)
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.dt.tz_localize("UTC").astype("datetime64[us, UTC]")
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return _epoch(values.astype("float64"), column, source)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype(str).str.strip()
    text = text.mask(text == "")
    filled = text.dropna()
    if len(filled) and _DIGITS.match(filled.iloc[0]) and filled.str.fullmatch(_DIGITS.pattern).all():
        parsed = _epoch(text.astype("float64"), column, source)
    else:
        parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
        bad = text.notna() & parsed.isna()
        if bad.any():
            raise UsageError(f"{source}: column '{column}' holds a date that cannot be read: {text[bad].iloc[0]!r} "
                             f"({int(bad.sum())} such value{'s' if bad.sum() > 1 else ''})", hint=_DATE_HINT)
    parsed = parsed.astype("datetime64[us, UTC]")
    if not len(parsed):
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    out = parsed.take(np.where(codes < 0, 0, codes)).reset_index(drop=True)
    return out.mask(codes < 0)


def _epoch(seconds: pd.Series, column: str, source: str) -> pd.Series:
    limit = (pd.Timestamp(f"{_LAST_YEAR}-01-01", tz="UTC") - pd.Timestamp(0, tz="UTC")).total_seconds()
    too_big = seconds.abs() > limit
    if too_big.any():
        raise UsageError(f"{source}: column '{column}' holds the number {seconds[too_big].iloc[0]:.0f}, which is "
                         f"not a date in Unix epoch seconds (after {_LAST_YEAR})",
                         hint="convert milliseconds to seconds, or " + _DATE_HINT)
    return pd.to_datetime(seconds, unit="s", utc=True)


def canonical_names(names: Iterable[str], counts: Iterable[int],
                    renames: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each distinct spelling -> its canonical name, as :func:`~forumkit.analysis.categories.normalize_categories` would
    give over a column holding each spelling ``count`` times (names in order of first appearance).

    The same rule, computed from counts so that a column of millions of rows costs one pass over its distinct
    values: renames first, then per :func:`~forumkit.analysis.categories.category_key` the most frequent spelling
    (whitespace collapsed; ties: the first seen).
    """
    names = list(names)
    by_key = {category_key(old): new for old, new in (renames or {}).items()}
    renamed = [by_key.get(category_key(n), n) for n in names]
    spellings: dict[str, Counter] = {}
    for name, count in zip(renamed, counts):
        spellings.setdefault(category_key(name), Counter())[" ".join(name.split())] += int(count)
    canonical = {key: found.most_common(1)[0][0] for key, found in spellings.items()}
    return {name: canonical[category_key(new)] for name, new in zip(names, renamed)}


def _normalized(values: pd.Series, renames: Mapping[str, str] | None, *, merge: bool = True) -> pd.Series:
    """:func:`canonical_names` over a column, computed on its distinct values (fast on long columns), as a
    categorical column. ``merge=False`` applies the renames only and keeps each spelling."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    uniques = [str(u) for u in uniques]
    if merge:
        mapping = canonical_names(uniques, np.bincount(codes[codes >= 0], minlength=len(uniques)), renames)
    else:
        by_key = {category_key(old): new for old, new in (renames or {}).items()}
        mapping = {u: by_key.get(category_key(u), u) for u in uniques}
    names = list(dict.fromkeys(mapping.values()))
    where = {name: i for i, name in enumerate(names)}
    position = np.array([where[mapping[u]] for u in uniques] + [-1], dtype=np.int64)  # code -1 -> -1
    return pd.Series(pd.Categorical.from_codes(position[codes], categories=names))


# -- the store ------------------------------------------------------------------------------------------------------

def _one_project(store: Store, rows: pd.DataFrame, project: int | None) -> int:
    found = sorted(int(p) for p in rows["project"].unique())
    if project is None and len(found) > 1:
        raise UsageError(f"{store.path} holds coded items of {len(found)} projects ({', '.join(map(str, found))})",
                         hint="choose one with --project N (see: forumkit studio projects), or count them all "
                              "with --by round")
    return project if project is not None else found[0]


def _project_weights(store: Store, project: int) -> pd.Series | None:
    """item_id -> sampling weight when the project was pushed from a saved sample, else None."""
    weights = store.project_sample_weights(project)
    return None if weights is None else pd.Series(weights, dtype="float64")


def round_label(project: Mapping) -> str:
    """The group of a project under ``by="round"``: ``round N`` (its ``studio_projects.round``), or
    ``project N`` (its id) for a project coded outside rounds, so that it stays a group of its own."""
    return f"round {project['round']}" if project["round"] is not None else f"project {project['id']}"


def _from_store(store: Store, project: int | None, view: str, adjudicator: str | None,
                every_project: bool = False) -> pd.DataFrame:
    """The tidy table of one pulled project; with ``every_project`` and no ``project``, of every project
    (each row's ``round`` tells them apart)."""
    from forumkit.coding.coded import annotation_rows

    if view not in VIEWS:
        raise UsageError(f"unknown view '{view}'", hint=f"use one of: {', '.join(VIEWS)}")
    if adjudicator is not None and view != "consensus":
        raise UsageError("an adjudicator decides consensus codes only", hint="use --view consensus with it")
    leads = store.round_leads()  # a blind round's coder projects are one coding, under the round's first project
    rows = annotation_rows(store, project)
    rows = rows.assign(project=rows["project"].map(leads))
    project = leads.get(project, project) if project is not None else None
    if every_project and project is None:
        projects = sorted(int(p) for p in rows["project"].unique())
    else:
        projects = [_one_project(store, rows, project)]
    labels = {int(r["id"]): round_label(r) for r in store.studio_projects()}
    frames = [_project_frame(store, rows, p, view, adjudicator).assign(round=labels.get(p, f"project {p}"))
              for p in projects]
    frames = [f for f in frames if len(f)]
    if not frames:
        raise UsageError(f"every annotation of project {projects[0]} was skipped", hint="code some items first")
    return pd.concat(frames, ignore_index=True)[list(COLUMNS)] if len(frames) > 1 else frames[0][list(COLUMNS)]


def _project_frame(store: Store, rows: pd.DataFrame, project: int, view: str,
                   adjudicator: str | None) -> pd.DataFrame:
    """One project's tidy rows (without ``round``); empty when every annotation was skipped."""
    from forumkit.coding.coded import coded_items

    rows = rows[(rows["project"] == project) & ~rows["was_cancelled"]]
    if rows.empty:
        return rows.iloc[:0]
    if view == "coders":  # an annotation without codes keeps one row with no code: the item counts as coded
        frame = rows[["item_id", "code_id", "created_at", "forum_category", "coder", "codebook_version"]].copy()
    else:
        items = coded_items(store, project, adjudicator=adjudicator)
        agreed = items.loc[items["consensus"], ["item_id", "code_id", "codebook_version"]]
        coded = rows.drop_duplicates("item_id")[["item_id", "created_at", "forum_category"]]
        frame = coded.merge(agreed, on="item_id", how="left")  # items without a consensus code keep one row
        frame["coder"] = CONSENSUS
    frame = frame.rename(columns={"item_id": "item", "code_id": "code", "created_at": "date"})
    frame["date"] = parse_dates(frame["date"], "created_at", str(store.path)).array
    weights = _project_weights(store, project)
    frame["weight"] = 1.0 if weights is None else frame["item"].map(weights).astype("float64")
    if weights is not None and frame["weight"].isna().any():
        log.warning("%d coded items of project %d are not in its sample: they have no weight",
                    frame.loc[frame["weight"].isna(), "item"].nunique(), project)
    frame["item"] = frame["item"].astype("int64")
    frame["code"] = frame["code"].astype(object).where(frame["code"].notna(), None)
    current = "|".join(sorted({book.version for book in project_codebooks(store, project)}))
    frame["codebook_version"] = frame["codebook_version"].astype(object).where(frame["codebook_version"].notna(),
                                                                               current or None)
    return frame.reset_index(drop=True)


def project_codebooks(store: Store, project: int | None = None) -> list:
    """The codebook snapshots a project was coded with: the one rule of
    :func:`forumkit.coding.studio.projects.project_codebooks` (a missing snapshot is an error)."""
    from forumkit.coding.studio.projects import project_codebooks as snapshots

    return snapshots(store, project)


def every_project_codebooks(store: Store) -> list:
    """The codebook snapshots of every pushed project, each (id, version) once: for counts over all projects."""
    books = {}
    for row in store.studio_projects():
        for book in project_codebooks(store, int(row["id"])):
            books.setdefault((book.id, book.version), book)
    return list(books.values())


def _store_items(store: Store, unit: str) -> pd.DataFrame:
    """Dates and forum categories of the store's topics (or posts), indexed by id, for files without them."""
    if unit not in ("topic", "post"):
        raise UsageError(f"unknown unit '{unit}'", hint="use topic or post")
    frame = pd.DataFrame(store.item_dates(unit), columns=["id", "date", "forum_category"])
    if frame["id"].duplicated().any():
        log.warning("%s holds several forums: each %s id takes the first forum's %s", store.path, unit, unit)
    frame = frame.drop_duplicates("id").set_index("id")
    frame["date"] = parse_dates(frame["date"], "created_at", str(store.path)).array
    return frame


# -- files ----------------------------------------------------------------------------------------------------------

def _file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".csv", ".csv.gz", ".csv.bz2", ".csv.zst")):
        return "csv"
    raise UsageError(f"cannot read {path}: unknown file type", hint="give a .csv (or .csv.gz) or .parquet file")


def _block_size(path: Path, rows: int) -> int:
    """Bytes of CSV holding about ``rows`` rows, judged from the first MiB (compressed files: 64 MiB)."""
    if path.suffix.lower() != ".csv":
        return 64 << 20
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    per_row = len(head) / max(head.count(b"\n"), 1)
    return int(min(max(rows * per_row, 16 << 10), 1 << 30))  # at least 16 KiB: a row must fit in a block


def _batches(path: Path, kind: str, wanted: dict[str, str], batch_rows: int) -> Iterator[pd.DataFrame]:
    """The wanted columns (role -> column name) in batches of about ``batch_rows`` rows, columns named by role."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    names = list(dict.fromkeys(wanted.values()))
    try:
        if kind == "parquet":
            source = pq.ParquetFile(path)
            found = source.schema_arrow.names
        else:
            found = pacsv.open_csv(path).schema.names
    except (OSError, pa.ArrowException) as exc:
        raise UsageError(f"cannot read {path}: {exc}".splitlines()[0], hint="give a CSV or Parquet file") from exc
    for role, column in wanted.items():
        if column not in found:
            shown = ", ".join(repr(c) for c in found if c) or "none"
            raise UsageError(f"{path} has no column '{column}' (columns found: {shown})",
                             hint=f"name the {role} column with --{role}-col")
    try:
        if kind == "parquet":  # text read as dictionaries: less memory, and fast to factorize
            text = [c for c in names if pa.types.is_string(source.schema_arrow.field(c).type)
                    or pa.types.is_large_string(source.schema_arrow.field(c).type)]
            source = pq.ParquetFile(path, read_dictionary=text, pre_buffer=False, buffer_size=1 << 20)
            batches = source.iter_batches(batch_size=batch_rows, columns=names)
        else:
            text = {c: pa.string() for role, c in wanted.items() if role != "weight"}
            reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=_block_size(path, batch_rows)),
                                    convert_options=pacsv.ConvertOptions(include_columns=names, column_types=text,
                                                                         strings_can_be_null=True))
            batches = iter(reader)
        for batch in batches:
            table = batch.to_pandas()
            yield pd.DataFrame({role: table[column] for role, column in wanted.items()})
    except pa.ArrowException as exc:
        raise UsageError(f"cannot read {path}: {exc}".splitlines()[0], hint="check the file is not damaged") from exc


def _cleaned(values: pd.Series) -> tuple[np.ndarray, list[str | None]]:
    """(codes, distinct stripped strings) of a column, with empty strings missing (code -1)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = [str(u).strip() for u in uniques]
    text = [t if t else None for t in text]
    return codes, text


def _items(values: pd.Series, column: str, source: str) -> pd.Series:
    """Item ids as int64 when every one is a whole number, else as stripped strings."""
    if pd.api.types.is_integer_dtype(values.dtype) and not values.isna().any():
        return values.astype("int64").reset_index(drop=True)
    if isinstance(values.dtype, pd.StringDtype) and not values.isna().any():
        import pyarrow as pa
        import pyarrow.compute as pc

        try:  # numbers read as text (CSV): one cast in Arrow
            return pd.Series(pc.cast(pa.array(values), pa.int64()).to_numpy())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
            pass
    codes, text = _cleaned(values)
    empty = np.array([t is None for t in text] + [True])[codes]  # code -1 picks the last: missing
    if empty.any():
        raise UsageError(f"{source}: column '{column}' is empty on {int(empty.sum())} rows",
                         hint="every row needs an item id")
    distinct = pd.Series(text, dtype=object)
    if distinct.str.fullmatch(r"-?\d+(\.0*)?").all():
        distinct = distinct.str.replace(r"\.0*$", "", regex=True).astype("int64")
    return pd.Series(distinct.to_numpy()[codes])


def _text(values: pd.Series) -> pd.Series:
    """Stripped strings as a categorical column (fast to group); empty strings are missing."""
    codes, text = _cleaned(values)
    categories = list(dict.fromkeys(t for t in text if t is not None))
    where = {t: i for i, t in enumerate(categories)}
    position = np.array([where.get(t, -1) for t in text] + [-1], dtype=np.int64)  # code -1 -> the last: -1
    return pd.Series(pd.Categorical.from_codes(position[codes], categories=categories))


def iter_coded(path: str | Path | None = None, *, store: Store | None = None, project: int | None = None,
               view: str | None = None, adjudicator: str | None = None, item: str = "item", code: str = "code",
               date: str | None = None, category: str | None = None, coder: str | None = None,
               weight: str | None = None, unit: str = "topic", renames: Mapping[str, str] | None = None,
               batch_rows: int = BATCH_ROWS, version: str | None = None, round: str | None = None,
               every_project: bool = False) -> Iterator[pd.DataFrame]:
    """The coded table in tidy chunks (:data:`COLUMNS`), for :meth:`Aggregator.fit`.

    With ``path``: a CSV or Parquet file read ``batch_rows`` rows at a time; ``item``, ``code``, ``date``,
    ``category`` (forum category), ``coder``, ``weight``, ``version`` (codebook version) and ``round`` (coding
    round) name its columns (all but item and code optional).
    Without a date or category column, a ``store`` gives them from its topics (``unit="post"``: posts) by item
    id; a missing coder column makes every code the consensus; a missing weight column weighs 1.0. Chunks
    of a file keep each category spelling (renames applied): the Aggregator, or :func:`load_coded`, merges
    spellings over the whole file as :func:`~forumkit.analysis.categories.normalize_categories` does.

    Without ``path``: the ``store``'s pulled project (one chunk): ``view="consensus"`` (default) gives each
    item's consensus codes (majority, or the ``adjudicator``'s), ``"coders"`` every coder's own codes.
    ``every_project`` with no ``project``: every pulled project's rows, each with its round (:func:`round_label`).
    """
    if path is None:
        if store is None:
            raise UsageError("nothing to aggregate", hint="give a coded file (--coded FILE) or a store (--db FILE)")
        frame = _from_store(store, project, view or "consensus", adjudicator, every_project)
        frame["forum_category"] = _normalized(frame["forum_category"], renames)
        yield frame
        return
    if project is not None or view is not None or adjudicator is not None:
        raise UsageError("--project, --view and --adjudicator choose a store's coded data, not a coded file's",
                         hint="leave them out with --coded FILE")
    path = Path(path)
    kind = _file_kind(path)
    if not path.is_file():
        raise UsageError(f"no file {path}", hint="check the --coded path")
    wanted = {"item": item, "code": code}
    wanted.update({role: column for role, column in (("date", date), ("category", category), ("coder", coder),
                                                     ("weight", weight), ("version", version),
                                                     ("round", round)) if column})
    looked_up = _store_items(store, unit) if store is not None and (date is None or category is None) else None
    for chunk in _batches(path, kind, wanted, batch_rows):
        out = pd.DataFrame({"item": _items(chunk["item"], item, str(path)), "code": _text(chunk["code"])})
        if looked_up is not None:
            if out["item"].dtype != "int64":
                raise UsageError(f"{path}: column '{item}' holds ids that are not numbers, so they cannot be "
                                 f"looked up in {store.path}", hint="give --date-col and --category-col instead")
            found = looked_up.reindex(out["item"].to_numpy())
            missing = int(found["date"].isna().sum())
            if missing:
                log.warning("%d rows of %s have items that %s does not hold: they have no date", missing, path,
                            store.path)
        if date:
            out["date"] = parse_dates(chunk["date"], date, str(path)).array
        elif looked_up is not None:
            out["date"] = found["date"].array
        else:
            out["date"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us, UTC]")
        names = chunk["category"] if category else (found["forum_category"] if looked_up is not None else None)
        out["forum_category"] = None if names is None else _normalized(pd.Series(names).reset_index(drop=True),
                                                                       renames, merge=False).array
        out["coder"] = _text(chunk["coder"]) if coder else CONSENSUS
        if coder and out["coder"].isna().any():
            out["coder"] = out["coder"].cat.add_categories([UNKNOWN_CODER]).fillna(UNKNOWN_CODER)
        out["weight"] = pd.to_numeric(chunk["weight"], errors="coerce").astype("float64") if weight else 1.0
        out["codebook_version"] = _text(chunk["version"]) if version else None
        out["round"] = _text(chunk["round"]) if round else None
        yield out[list(COLUMNS)]


def load_coded(path: str | Path | None = None, *, store: Store | None = None, project: int | None = None,
               view: str | None = None, adjudicator: str | None = None, item: str = "item", code: str = "code",
               date: str | None = None, category: str | None = None, coder: str | None = None,
               weight: str | None = None, unit: str = "topic",
               renames: Mapping[str, str] | None = None, version: str | None = None,
               round: str | None = None, every_project: bool = False) -> pd.DataFrame:
    """The whole coded table as one tidy DataFrame (:data:`COLUMNS`); arguments as :func:`iter_coded`.

    Forum categories are normalised over the whole table (:func:`~forumkit.analysis.categories.normalize_categories`).

    Example::

        coded = load_coded("All_Codes.csv", item="Topic#", code="Code", category="Tag")
        with Store("hf.db") as store:
            coded = load_coded(store=store, project=1, view="coders")
    """
    chunks = list(iter_coded(path, store=store, project=project, view=view, adjudicator=adjudicator, item=item,
                             code=code, date=date, category=category, coder=coder, weight=weight, unit=unit,
                             renames=renames, version=version, round=round, every_project=every_project))
    if not chunks:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(COLUMNS, (
            "int64", object, "datetime64[us, UTC]", object, object, "float64", object, object))})
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    frame["forum_category"] = _normalized(frame["forum_category"], None)
    return frame
