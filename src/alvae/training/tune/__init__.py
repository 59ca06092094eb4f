"""The task model's recipe, tuned on the round-0 labeled set alone (``task_model.recipe:
tuned``, the ``tune:`` block of the config; docs/tuning.md).

What the search may read: the images and labels of the initial labeled set of one
AL seed (:func:`labeled_set`, which calls :func:`alvae.seeds.initial_labeled`, the
function the AL loop itself draws round 0 with), nothing else: not the test or val
split, not the labels of the unlabeled pool, not any later round. The score of a
recipe is k-fold cross-validation on those labels (stratified for single-label
tasks, see :func:`cv_folds`), in the task's primary metric: accuracy for single-label tasks, the mean
per-label ROC-AUC for multi-label ones (``tune.metric``).

The search is an Optuna study: TPE sampling, a median pruner that stops a bad trial
after its first epochs (the first fold reports its validation score after every
epoch), and a storage in the job's folder (SQLite, or Optuna's journal file for
several SLURM jobs sharing one study) so that a killed job resumes its study.

The config's fixed recipe is always trial 0 (:meth:`optuna.Study.enqueue_trial`;
the space is widened to hold its values where needed), and ties go to the lower
trial number, so on the cross-validation score the chosen recipe is never worse
than the fixed one.

Determinism: the folds, each fold's model init and batch order, and the sampler's
random numbers all derive from the study's seed; the sampler is reseeded before
each trial from ``(seed, number of finished trials)``. A study killed mid-trial
therefore resumes into the same trials as one that ran through: the trial that
was running is marked failed and its parameters are tried again first.

The package: :mod:`.space` (the searched keys, their distributions, a trial's recipe),
:mod:`.cv` (the labeled set, the folds, a recipe's score) and :mod:`.study` (the Optuna
study, its storage and pruning, and the recipe, trials and history outputs). The names
below are the package's public ones; import them from ``alvae.training.tune``.
"""

from .cv import LabeledSet, cross_validate, cv_folds, derived_seed, labeled_set, score
from .space import (
    INT_KEYS,
    METRICS,
    NOT_IN_ROUND_0,
    TUNABLE,
    distributions,
    fixed_params,
    primary_metric,
    space_problems,
    trial_recipe,
)
from .study import (
    STALE_AFTER_S,
    apply_recipe,
    best_trial,
    chosen_recipe,
    counted_trials,
    history_figure,
    read_recipe,
    run_study,
    storage_for,
    study_file,
    study_key,
    trials_table,
    tune_recipe,
    write_recipe,
)

__all__ = [
    "INT_KEYS", "METRICS", "NOT_IN_ROUND_0", "STALE_AFTER_S", "TUNABLE", "LabeledSet",
    "apply_recipe", "best_trial", "chosen_recipe", "counted_trials", "cross_validate",
    "cv_folds", "derived_seed", "distributions", "fixed_params", "history_figure",
    "labeled_set", "primary_metric", "read_recipe", "run_study", "score", "space_problems",
    "storage_for", "study_file", "study_key", "trial_recipe", "trials_table", "tune_recipe",
    "write_recipe",
]
