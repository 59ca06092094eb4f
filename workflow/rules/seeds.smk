# al.extra_seeds (alvae.analysis.seedplan): after the runs of al.seeds, a checkpoint plans
# how many seeds the primary question needs, from the spread of its paired AULC
# differences alone, by the rule fixed in the config; the aggregation then reads every
# planned seed (all_seeds in common.smk), and Snakemake runs the extra ones.

if PLAN.extra_seeds:

    checkpoint plan_seeds:
        input:
            runs=[r[3] for r in PLAN.run_records(PLAN.seeds)],
            evaluations=[PLAN.eval_file(d) for d in PLAN.datasets],
        output:
            PLAN.seed_plan,
        params:
            records=[list(r) for r in PLAN.run_records(PLAN.seeds)],
            datasets=PLAN.datasets,
            first=PLAN.seeds,
            rule=canonical(PLAN.extra_seeds),
            pairs=PLAN.stats_pairs(),
            alpha=PLAN.stats_alpha(),
            margins=PLAN.stats_margins(),
            metrics=PLAN.stats_metrics(),
            primary=PLAN.stats_primary(),
        conda:
            "../../envs/alvae.yaml"
        log:
            PLAN.log_path("plan_seeds", "all"),
        localrule: True
        script:
            "../scripts/plan_seeds.py"
