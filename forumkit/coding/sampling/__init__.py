"""Random samples of topics or posts from the store: seeded, reproducible, saved with their design.

A :class:`SampleDesign` says what to draw from (unit, filters), how many (a fixed
size or Cochran's formula, :mod:`.size`) and how (simple, or stratified by category or
calendar period with proportional or equal allocation). :func:`draw_sample`
draws it (:mod:`.draw`): the population is sorted by id and drawn with
``numpy.random.Generator(PCG64(seed))``, so the same design on the same store
gives the same items, whatever order SQLite returns rows in.
:func:`save_sample` keeps it in the ``samples`` and ``sample_items`` tables (:mod:`.saved`),
the design JSON holding the population of each stratum and the size computation,
so that weights (stratum population / stratum sample size) can extrapolate
coded results back to the population later. Periods are :mod:`forumkit.dates`' calendar periods.
A design with ``strategy="uncertainty"`` is not drawn here but chosen by a classifier for active learning
(:func:`forumkit.coding.suggest.active.draw_uncertain_sample`); it is saved and pushed the same way, with
weight 1 for its items, since it estimates nothing about the population.

Example::

    with Store("hf.db") as store:
        sample = draw_sample(store, SampleDesign("round1", strata="period", period="year", seed=1))
        save_sample(store, sample)
"""

from forumkit.dates import PERIODS, period_labels

from .design import ALL, METHODS, STRATA, STRATEGIES, UNCERTAIN, UNITS, Sample, SampleDesign, SampleInfo
from .draw import draw_sample, sample_population
from .saved import list_samples, load_sample, sample_table, save_sample, write_sample_csv
from .size import ALLOCATIONS, SizeComputation, allocate, cochran_size

__all__ = [
    "ALL", "ALLOCATIONS", "METHODS", "PERIODS", "STRATA", "STRATEGIES", "UNCERTAIN", "UNITS",
    "SizeComputation", "SampleDesign", "Sample", "SampleInfo", "cochran_size", "allocate", "period_labels",
    "draw_sample", "sample_population", "save_sample", "load_sample", "list_samples", "sample_table", "write_sample_csv",
]
