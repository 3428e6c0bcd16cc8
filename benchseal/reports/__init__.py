"""benchseal.reports: what happens to a bundle after the measurement, as three components:

- :mod:`benchseal.reports.render` — views, HTML, Markdown, JUnit, tables and plots;
- :mod:`benchseal.reports.seal` — canonical JSON, keys, the in-toto statement and its DSSE signature;
- :mod:`benchseal.reports.verify` — verification policies, integrity checks and recomputation
  (plain imports of the functions that produced each figure).

Layer order: ``seal`` < ``render`` < ``verify`` (verify re-renders the human reports to compare them).
"""
