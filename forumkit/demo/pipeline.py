"""The whole study on the shipped forum snapshot, offline: what `forumkit demo` runs, stage by stage.

serve the snapshot on loopback -> scrape -> Hub sample -> sample -> topics -> code suggestions -> Label Studio
-> push with suggestions -> simulated coders (:mod:`forumkit.demo.coders`) -> pull -> agreement and suggestion
acceptance -> coded exports (CSV, Parquet, REFI-QDA) -> taxonomy frequencies over time -> the report.

Every stage calls the same library functions as the command of its step (``forumkit scrape``, ``sample``,
``suggest topics``, ``suggest codes``, ``studio up/push/pull``, ``agreement``, ``suggest report``, ``export``,
``aggregate``, ``report``), so the demo shows those commands' results, not a special path. The library never
prints: a :class:`Events` receiver hears when a stage starts, how far it is and the one line it ends with.
Label Studio's own environment (about 1 GB) installs in the background while the first stages run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

from forumkit.coding.codebook import Codebook, label_config, load_codebook, shipped_codebooks
from forumkit.coding.sampling import SampleDesign, draw_sample, save_sample, write_sample_csv
from forumkit.coding.studio import server as studio_server
from forumkit.collect.discourse.client import DiscourseClient
from forumkit.collect.discourse.crawl import CrawlOptions, CrawlProgress, Crawler
from forumkit.collect.export import TABLES, export_table
from forumkit.collect.hub import HubClient, HubCollector, HubOptions
from forumkit.collect.summary import summarize
from forumkit.errors import UsageError
from forumkit.fakes.discourse import FakeDiscourse, load_sample
from forumkit.fakes.hub import FakeHub, generate_models
from forumkit.store import Store

__all__ = ["DEFAULT_WORKDIR", "SAMPLE_NAME", "STAGES", "DemoResult", "Events", "run"]

DEFAULT_WORKDIR = Path("forumkit-work") / "demo"
SAMPLE_NAME = "demo"
#: The stages in order; ``run(stop_after=...)`` ends after one of them.
STAGES = ("scrape", "hub", "sample", "topics", "suggest", "studio", "push", "code", "pull", "agreement",
          "export", "aggregate", "report")
#: The shipped Hub sample: models drawn by the fake Hub's generator with this seed over the forum's months.
HUB_MODELS, HUB_SEED = 3000, 7
PERIOD = "quarter"


class Events(Protocol):
    """What a display hears from the demo (the command line shows it with rich; tests may collect it)."""

    def started(self, stage: str, what: str) -> None: ...
    def advanced(self, done: int, total: int | None) -> None: ...
    def finished(self, stage: str, line: str) -> None: ...


class _Silent:
    def started(self, stage: str, what: str) -> None:
        pass

    def advanced(self, done: int, total: int | None) -> None:
        pass

    def finished(self, stage: str, line: str) -> None:
        pass


@dataclass
class DemoResult:
    """Where everything the demo made lies, and the one line each stage ended with."""

    workdir: Path
    db: Path
    lines: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    project: int | None = None  # forumkit's id of the coded project
    studio_url: str | None = None  # the coded project in Label Studio
    studio_workdir: Path | None = None
    codebooks: list[tuple[str, str]] = field(default_factory=list)  # shipped name, codebook name

    @property
    def report(self) -> Path | None:
        return self.files.get("report")


def _fresh_store(db: Path) -> None:
    """The demo's forum server listens on a new port each run: its store starts afresh."""
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        stale.unlink(missing_ok=True)


class _Background(threading.Thread):
    """Label Studio installed (once, about two minutes) and started (its first start migrates its database for
    about a minute) while the first stages run, so that the studio stage mostly waits for nothing."""

    def __init__(self, workdir: Path, venv: Path) -> None:
        super().__init__(daemon=True, name="label-studio-start")
        self.workdir, self.venv = workdir, venv
        self.error: Exception | None = None
        self.info: studio_server.ServerInfo | None = None

    def run(self) -> None:
        try:
            self.info = studio_server.start(self.workdir, venv=self.venv)
        except Exception as exc:  # noqa: BLE001 - raised again in the studio stage, where it belongs
            self.error = exc


class _Demo:
    """One run: the stages as methods sharing the open store and what earlier stages made."""

    def __init__(self, workdir: Path, venv: Path, events: Events) -> None:
        self.workdir, self.venv, self.events = workdir, venv, events
        self.db = workdir / "sample.db"
        self.result = DemoResult(workdir=workdir, db=self.db)
        shipped = shipped_codebooks()
        self.books: list[Codebook] = [load_codebook(path) for path in shipped.values()]
        self.result.codebooks = [(name, book.name) for name, book in zip(shipped, self.books)]
        self.store: Store | None = None
        self.forum_id = 0
        self.sample_items: list[int] = []
        self.suggestions: Any = None
        self.studio: Any = None
        self.push: Any = None

    def file(self, name: str, path: Path) -> Path:
        self.result.files[name] = path
        return path

    # -- collect --------------------------------------------------------------------------------------------
    def scrape(self) -> str:
        with FakeDiscourse(load_sample()) as forum, DiscourseClient(forum.url, rate=0, retries=3, backoff=0.1) as client:
            def progress(state: CrawlProgress) -> None:
                self.events.advanced(state.topics_done, state.topics_queued or None)
            crawl = Crawler(client, self.store, CrawlOptions(), progress=progress).run()
        self.forum_id = crawl.forum_id
        summary = summarize(self.store, crawl.forum_id)
        for table in TABLES:
            export_table(self.store, table, "parquet", self.file(table, self.workdir / f"{table}.parquet"))
        return (f"scraped the shipped forum snapshot on loopback: {summary.counts['topics']} topics, "
                f"{summary.counts['posts']} posts, "
                f"{crawl.requests} requests; posts, topics and mentions -> Parquet")

    def hub(self) -> str:
        models = generate_models(HUB_MODELS, seed=HUB_SEED, start="2020-12", end="2023-06")
        with FakeHub(models) as fake, HubClient(fake.url, rate=0, retries=3, backoff=0.1) as client:
            done = HubCollector(client, self.store, HubOptions()).run()
        return f"collected {done.models_stored} models of the shipped Hub sample ({done.requests} requests)"

    # -- coding ---------------------------------------------------------------------------------------------
    def sample(self) -> str:
        sample = draw_sample(self.store, SampleDesign(name=SAMPLE_NAME, strata="category", seed=42))
        save_sample(self.store, sample, replace=True)
        write_sample_csv(self.store, sample, self.file("sample", self.workdir / f"sample-{SAMPLE_NAME}.csv"))
        config = self.file("label_config", self.workdir / "label-config.xml")
        config.write_text(label_config(self.books, unit="topic"), encoding="utf-8")
        self.sample_items = [int(i) for i in sample.items["item_id"]]
        return (f"sampled {len(self.sample_items)} of {sum(sample.population.values())} topics, stratified by category "
                f"(Cochran, 95% / 5%, seed 42) -> {self.result.files['sample'].name}")

    def topics(self) -> str:
        from forumkit.analysis.topictrends import run_topics
        from forumkit.coding.suggest.topics import TopicOptions

        found, trends = run_topics(self.store, self.books[:1], self.file("topics", self.workdir / "topics"),
                                   TopicOptions(embedder="static", seed=0), period=PERIOD)
        rising = int((trends.trends["trend"] != "no trend").sum())
        return (f"found {len(found.topics)} topics in {len(found.items)} forum topics (BERTopic, shipped static "
                f"embeddings), {rising} with a trend per {PERIOD}, {len(found.new_codes)} candidate new codes")

    def suggest(self) -> str:
        from forumkit.coding.suggest.codes import suggest_codes, write_suggestions
        from forumkit.coding.suggest.corpus import from_store

        corpus = from_store(self.store, unit="topic", sample=SAMPLE_NAME)
        found = suggest_codes(self.books, corpus, store=self.store, seed=0, embedder="minilm", top=1)
        self.suggestions = found.table
        write_suggestions(found.table, self.file("suggestions", self.workdir / "suggestions.csv"))
        return (f"suggested the best code of each codebook for {found.items} sampled topics ({found.mode}, "
                f"all-MiniLM-L6-v2) -> suggestions.csv")

    def studio_up(self, server: _Background) -> str:
        from forumkit.coding.studio.client import Studio

        if server.is_alive():
            self.events.started("studio", "waiting for Label Studio, installed and started in the background")
        server.join()
        if server.error is not None:
            raise server.error
        info = server.info
        assert info is not None
        workdir = self.result.studio_workdir = server.workdir
        self.studio = Studio(*studio_server.access(workdir))
        for old in self.studio.projects_described_with("forumkit"):  # an earlier demo's project, on our own server
            self.studio.delete_project(old)
        return f"Label Studio is up at {info.url} (data in {workdir.name}/, login in {Path(info.login_file).name})"

    def push_tasks(self) -> str:
        from forumkit.coding.studio.push import push

        self.push = push(self.store, self.studio, self.books, forum_id=self.forum_id, unit="topic",
                         item_ids=self.sample_items, title=f"{SAMPLE_NAME} · hf-challenges + hf-benefits",
                         sample=SAMPLE_NAME, coders=2, suggestions=self.suggestions,
                         progress=lambda done, total: self.events.advanced(done, total))
        self.result.project, self.result.studio_url = self.push.project, self.push.project_url
        return (f"pushed {self.push.tasks_added} tasks with {self.push.predictions} pre-annotations to project "
                f"{self.push.project_id}")

    def code(self) -> str:
        from forumkit.demo.coders import load_coding_key, simulate_coding

        done = simulate_coding(self.studio, self.push.project_id, load_coding_key(), self.books,
                               progress=lambda n, total: self.events.advanced(n, total))
        return (f"{len(done.coders)} simulated coders made {done.annotations} annotations through Label Studio's "
                f"API, keeping {done.kept_suggestions} of the {done.offered_suggestions} pre-selected codes")

    def pull(self) -> str:
        from forumkit.coding.studio.pull import pull

        got = pull(self.store, self.studio, self.push.project)
        return f"pulled {got.annotations} annotations on {got.tasks_annotated} topics, {got.codes} codes"

    # -- analysis -------------------------------------------------------------------------------------------
    def agreement(self) -> str:
        from forumkit.coding.reliability import project_agreement, write_agreement
        from forumkit.coding.suggest.acceptance import suggestion_report, write_report

        agreed = project_agreement(self.store, self.push.project, n_boot=200, seed=0)
        write_agreement(agreed, self.file("agreement", self.workdir / "agreement"))
        accepted = suggestion_report(self.store, self.push.project)
        write_report(accepted, self.file("acceptance", self.workdir / "acceptance"))
        overall = agreed.overall_.set_index("measure")["value"]
        rows = accepted.per_code[accepted.per_code["code_id"] == "ALL"]
        kept = f"; coders kept {rows['acceptance'].iloc[0]:.0%} of the pre-selected codes" if len(rows) else ""
        return (f"agreement: Cohen's kappa {overall['cohen_kappa']:.2f}, Krippendorff's alpha "
                f"{overall['krippendorff_alpha']:.2f} over item x code decisions{kept}")

    def export(self) -> str:
        from forumkit.coding.export import export_dataset

        coded_csv = self.file("coded_csv", self.workdir / "coded.csv")
        made = export_dataset(self.store, "coded", coded_csv, format="csv", project=self.push.project)
        export_dataset(self.store, "coded", self.file("coded_parquet", self.workdir / "coded.parquet"),
                       format="parquet", project=self.push.project)
        export_dataset(self.store, "qdpx", self.file("qdpx", self.workdir / "coded.qdpx"), project=self.push.project)
        return f"exported the coded dataset ({made.rows} rows) -> coded.csv, coded.parquet, coded.qdpx (REFI-QDA)"

    def aggregate(self) -> str:
        from forumkit.analysis.aggregate import Aggregator, iter_coded, write_table

        folder = self.file("frequencies", self.workdir / "frequencies")
        folder.mkdir(exist_ok=True)
        estimator = Aggregator(level="category", period=PERIOD)
        estimator.fit(iter_coded(None, store=self.store, project=self.push.project), self.books)
        for book in self.books:
            write_table(estimator.counts_[estimator.counts_["codebook"] == book.id],
                        folder / f"{book.id}-by-{PERIOD}.csv")
        return (f"taxonomy frequencies of {estimator.n_items_} coded topics per category and {PERIOD}, with Wilson "
                f"intervals -> frequencies/")

    def report(self) -> str:
        from forumkit.analysis.report import ReportOptions
        from forumkit.analysis.report.study import report_study

        index = report_study(self.store, self.workdir / "report", project=self.push.project,
                             options=ReportOptions(period=PERIOD, title="forumkit demo: the shipped forum, coded"),
                             command="forumkit demo")
        self.file("report", index)
        return "the report: taxonomy, shares over time, trend tests, agreement, suggestions, topics, activity, Hub"


def run(workdir: str | Path = DEFAULT_WORKDIR, *, stop_after: str = STAGES[-1],
        venv: str | Path = studio_server.DEFAULT_VENV, events: Events | None = None) -> DemoResult:
    """Run the demo into ``workdir`` (made if missing; its store starts afresh each time), up to ``stop_after``.

    Label Studio runs from ``venv`` (installed there if missing) with its data in ``workdir/studio``, and is
    left running so that the coded project can be looked at; `forumkit studio down --workdir ...` stops it.
    """
    if stop_after not in STAGES:
        raise UsageError(f"unknown stage '{stop_after}'", hint=f"use one of: {', '.join(STAGES)}")
    workdir, events = Path(workdir).absolute(), events or _Silent()
    workdir.mkdir(parents=True, exist_ok=True)
    demo = _Demo(workdir, Path(venv).absolute(), events)
    last = STAGES.index(stop_after)
    server = _Background(workdir / "studio", demo.venv)
    if last >= STAGES.index("studio"):
        server.start()
    steps: dict[str, Callable[[], str]] = {
        "scrape": demo.scrape, "hub": demo.hub, "sample": demo.sample, "topics": demo.topics,
        "suggest": demo.suggest, "studio": lambda: demo.studio_up(server), "push": demo.push_tasks,
        "code": demo.code, "pull": demo.pull, "agreement": demo.agreement, "export": demo.export,
        "aggregate": demo.aggregate, "report": demo.report,
    }
    _fresh_store(demo.db)
    with Store(demo.db) as store:
        demo.store = store
        for stage in STAGES[:last + 1]:
            events.started(stage, stage)
            line = steps[stage]()
            demo.result.lines[stage] = line
            events.finished(stage, line)
    return demo.result
