"""Stages 4-5: aggregation, paired tests, rankings, figures and the report's text (rules aggregate, stats, rankings, plot_*, report_text, diagnostics)."""
