"""Stage 1: datasets, their files and checks, the pool and evaluation splits (rules subset, eval_split)."""
