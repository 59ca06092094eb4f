# Stage 4: results. Collect the runs, test the pairs of strategies, draw the
# figures and write the report's text. Cheap jobs: they run on the main host.

rule aggregate:
    input:
        runs=lambda wc: [r[3] for r in PLAN.run_records(all_seeds())],
        # the test labels, for each dataset's task and trivial baseline
        evaluations=[PLAN.eval_file(d) for d in PLAN.datasets],
    output:
        runs=f"{OUT}/results/runs.csv",
        summary=f"{OUT}/results/summary.csv",
        aulc=f"{OUT}/results/aulc.csv",
        datasets=f"{OUT}/results/datasets.csv",
    params:
        records=lambda wc: [list(r) for r in PLAN.run_records(all_seeds())],
        metrics=TEST_METRICS,
        datasets=PLAN.datasets,
        # each dataset's primary metric (datasets.csv) follows these two
        stats_metrics=PLAN.stats_metrics(),
        primary=PLAN.stats_primary(),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("aggregate", "all"),
    benchmark:
        PLAN.bench_path("aggregate", "all")
    localrule: True
    script:
        "../scripts/aggregate.py"


rule stats:
    input:
        runs=f"{OUT}/results/runs.csv",
        aulc=f"{OUT}/results/aulc.csv",
        datasets=f"{OUT}/results/datasets.csv",
    output:
        tests=report(
            f"{OUT}/results/tests.csv",
            caption="../report/tests.rst",
            category="Tests",
            labels={"table": "paired tests per label budget"},
        ),
        md=f"{OUT}/results/tests.md",
        aulc_tests=report(
            f"{OUT}/results/tests_aulc.csv",
            caption="../report/aulc.rst",
            category="Tests",
            labels={"table": "paired tests on AULC"},
        ),
    params:
        pairs=PLAN.stats_pairs(),
        alpha=PLAN.stats_alpha(),
        metrics=PLAN.stats_metrics(),  # null: by task; the primary metric comes from datasets.csv
        margin=PLAN.stats_margins(),
        correction=PLAN.stats_correction(),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("stats", "all"),
    benchmark:
        PLAN.bench_path("stats", "all")
    localrule: True
    script:
        "../scripts/stats.py"


rule plot_curves:
    input:
        summary=f"{OUT}/results/summary.csv",
        tests=f"{OUT}/results/tests.csv",
        datasets=f"{OUT}/results/datasets.csv",
        evaluation=lambda wc: PLAN.eval_file(wc.dataset),
        **PLAN.ceiling_curve_inputs(),  # the all-labels ceiling line (ceiling.smk)
    output:
        png=report(
            f"{OUT}/figures/curves_{{dataset}}_{{family}}.png",
            caption="../report/learning_curves.rst",
            category="Learning curves",
            labels={"dataset": "{dataset}", "family": "{family}"},
        ),
        pdf=f"{OUT}/figures/curves_{{dataset}}_{{family}}.pdf",
    params:
        strategies=lambda wc: PLAN.family_members(wc.family),
        alpha=PLAN.stats_alpha(),
        correction=PLAN.stats_correction(),
    wildcard_constraints:
        family="|".join(PLAN.families),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("plot_curves", "{dataset}_{family}"),
    benchmark:
        PLAN.bench_path("plot_curves", "{dataset}_{family}")
    localrule: True
    script:
        "../scripts/plot_curves.py"


rule rankings:
    input:
        runs=f"{OUT}/results/runs.csv",
        datasets=f"{OUT}/results/datasets.csv",
    output:
        ppm_png=report(
            f"{OUT}/figures/ppm_{{metric}}.png",
            caption="../report/ppm.rst",
            category="Rankings",
            labels={"figure": "pairwise penalty matrix", "metric": "{metric}"},
        ),
        ppm_pdf=f"{OUT}/figures/ppm_{{metric}}.pdf",
        ppm_csv=f"{OUT}/results/ppm_{{metric}}.csv",
        cd_png=report(
            f"{OUT}/figures/cd_{{metric}}.png",
            caption="../report/cd.rst",
            category="Rankings",
            labels={"figure": "critical-difference diagram", "metric": "{metric}"},
        ),
        cd_pdf=f"{OUT}/figures/cd_{{metric}}.pdf",
        ranks_csv=f"{OUT}/results/ranks_{{metric}}.csv",
        friedman=f"{OUT}/results/friedman_{{metric}}.json",
    params:
        strategies=PLAN.strategies,
        alpha=PLAN.stats_alpha(),
    wildcard_constraints:
        metric="|".join(PLAN.rankings),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("rankings", "{metric}"),
    benchmark:
        PLAN.bench_path("rankings", "{metric}")
    localrule: True
    script:
        "../scripts/rankings.py"


rule plot_tsne:
    input:
        selection=f"{OUT}/tsne/{{dataset}}/selection.npz",
    output:
        png=expand(f"{OUT}/figures/tsne_{{dataset}}_{{strategy}}.png",
                   strategy=PLAN.tsne_strategies, allow_missing=True),
        pdf=expand(f"{OUT}/figures/tsne_{{dataset}}_{{strategy}}.pdf",
                   strategy=PLAN.tsne_strategies, allow_missing=True),
        pair_png=report(
            f"{OUT}/figures/tsne_{{dataset}}_pair.png",
            caption="../report/tsne.rst",
            category="t-SNE",
            labels={"dataset": "{dataset}"},
        ),
        pair_pdf=f"{OUT}/figures/tsne_{{dataset}}_pair.pdf",
    params:
        strategies=PLAN.tsne_strategies,
        pair=PLAN.tsne_pair_strategies(),
        seed=config["tsne"]["seed"],
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("plot_tsne", "{dataset}"),
    benchmark:
        PLAN.bench_path("plot_tsne", "{dataset}")
    localrule: True
    script:
        "../scripts/plot_tsne.py"


rule report_text:
    input:
        tests=f"{OUT}/results/tests.csv",
        aulc_tests=f"{OUT}/results/tests_aulc.csv",
        datasets=f"{OUT}/results/datasets.csv",
        rankings=expand(f"{OUT}/results/friedman_{{metric}}.json", metric=PLAN.rankings),
        **PLAN.worth_report_inputs(),  # labels saved and the ceiling's share (labels_saved.smk)
        **({"seed_plan": PLAN.seed_plan} if PLAN.extra_seeds else {}),  # al.extra_seeds (seeds.smk)
    output:
        summary=report(
            f"{OUT}/report/summary.rst",
            caption="../report/summary.rst",
            category="Summary",
            labels={"page": "summary of the tests"},
        ),
        settings=report(
            f"{OUT}/report/settings.rst",
            caption="../report/settings.rst",
            category="Summary",
            labels={"page": "settings and software versions"},
        ),
    params:
        config=PLAN.recorded_config(),  # recorded in settings.rst
        alpha=PLAN.stats_alpha(),
    conda:
        "../../envs/alvae.yaml"
    log:
        PLAN.log_path("report_text", "all"),
    benchmark:
        PLAN.bench_path("report_text", "all")
    localrule: True
    script:
        "../scripts/report_text.py"
