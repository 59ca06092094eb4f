# al.extra_seeds (alvae.analysis.seedplan): after the runs of al.seeds, a checkpoint plans
# how many seeds the primary question needs, from the spread of its paired AULC
# differences alone, by the rule fixed in the config; the aggregation then reads every
# planned seed (all_seeds in common.smk), and Snakemake runs the extra ones.

if EXTRA_SEEDS:

    checkpoint plan_seeds:
        input:
            runs=[r[3] for r in run_records(SEEDS)],
            evaluations=[eval_file(d) for d in DATASETS],
        output:
            SEED_PLAN,
        params:
            records=[list(r) for r in run_records(SEEDS)],
            datasets=DATASETS,
            first=SEEDS,
            rule=canonical(EXTRA_SEEDS),
            pairs=stats_pairs(),
            alpha=stats_alpha(),
            margins=stats_margins(),
            metrics=stats_metrics(),
            primary=stats_primary(),
        conda:
            "../../envs/alvae.yaml"
        log:
            log_path("plan_seeds", "all"),
        localrule: True
        script:
            "../scripts/plan_seeds.py"
