"""A pytest plugin that makes a skipped test fail the session: CI must not go green by skipping.

A test whose data or tool is missing fails with a message naming what is missing; a test that skips anyway
(pytest.skip, skipif, importorskip, an xfail) turns the session's exit status into 1 and is listed under
"skipped" by ``-rs`` and in a line of its own. tests/conftest.py imports these hooks.
"""

from __future__ import annotations

import pytest

_SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count every test that did not run to the end: skipped in setup or call, or xfailed."""
    if report.skipped:
        _SKIPPED.append(report.nodeid)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """Count a module skipped as a whole at collection (pytest.skip(allow_module_level=True), importorskip)."""
    if report.skipped:
        _SKIPPED.append(report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A session with a skip fails (exit 1) even when every test that ran passed, or none was left to run."""
    if _SKIPPED and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int) -> None:
    if _SKIPPED:
        terminalreporter.write_line(f"FAILED: {len(_SKIPPED)} test(s) skipped, and CI counts a skip as a failure "
                                    f"(e.g. {_SKIPPED[0]}); make the test run or fail with what is missing",
                                    red=True, bold=True)
