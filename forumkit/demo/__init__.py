"""The main job on the shipped forum snapshot, end to end and offline: what `forumkit demo` runs.

It sits above the stages (collect, coding, analysis) and below the command line: :mod:`.pipeline` runs the
whole study, :mod:`.coders` holds the simulated coders and their seeded coding key.

Example::

    from forumkit.demo import run
    result = run("forumkit-work/demo")
    result.report                       # .../forumkit-work/demo/report/index.html
"""

from __future__ import annotations

from .pipeline import DEFAULT_WORKDIR, SAMPLE_NAME, STAGES, DemoResult, Events, run

__all__ = ["DEFAULT_WORKDIR", "SAMPLE_NAME", "STAGES", "DemoResult", "Events", "run"]
