"""The words of the report: the functions that turn the study's numbers into its
sentences, one module per page or section. The numbers themselves are computed
elsewhere (alvae.analysis.stats, power, ranking, labels_saved, report;
alvae.training.ceiling) and only read here.

- :mod:`.summary`: report/summary.rst after the design: the tests' summary, warnings on
  evaluation data, the rankings, how AUC and AP are averaged, then the two sections below;
- :mod:`.verdicts`: the paired tests' words: method, counts per question, the thesis's
  question ("a null result" only when every tested pair is equivalent), each pair's lines;
- :mod:`.labels_saved`: the labels-saved table's text columns and its summary section
  ("saves/costs N labels" only where the adjusted test differs);
- :mod:`.ceiling`: each strategy's final score as a share of the all-labels ceiling;
- :mod:`.classifier`: report/classifier.rst (recipe, trials, under-fitting check);
- :mod:`.settings`: report/settings.rst;
- :mod:`.text`: the small formatters they share.

Nothing is imported here, so that alvae.analysis.labels_saved can import its words from
:mod:`.labels_saved` without a cycle.
"""
