"""The task model and how it is trained: model, engine, recipe, devices, metrics; the tuning stage (rule tune) and the all-labels ceiling (rule ceiling)."""
