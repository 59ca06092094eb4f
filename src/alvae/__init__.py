"""alvae: pool-based active learning with task-agnostic VAE features.

All logic of the workflow lives in this package; the Snakemake rules under
``workflow/`` only call into it.
"""

__version__ = "0.1.0"
