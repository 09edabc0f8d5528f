"""Random samples of topics or posts (moved into a package; the split into modules follows)."""

from .draw import (Sample, SampleDesign, SampleInfo, SizeComputation, allocate, cochran_size, draw_sample,
                   list_samples, load_sample, period_labels, sample_table, save_sample, write_sample_csv)

__all__ = [
    "SizeComputation", "SampleDesign", "Sample", "SampleInfo", "cochran_size", "allocate", "period_labels",
    "draw_sample", "save_sample", "load_sample", "list_samples", "sample_table", "write_sample_csv",
]
