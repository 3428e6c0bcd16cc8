"""benchseal.reports.render: the human and CI views of a bundle.

Public face: :func:`write_reports` (report.html, report.md, junit.xml; on request report.pdf and form.md/form.json), :func:`bundle_tables`,
:func:`export_tables` (CSV/Parquet). pandas and matplotlib load inside the functions.
"""

from benchseal.reports.render.tables import bundle_tables, export_tables
from benchseal.reports.render.write import write_reports

__all__ = ["bundle_tables", "export_tables", "write_reports"]
