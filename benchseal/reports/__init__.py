"""benchseal.reports: the evidence bundle's human reports, its signature and its verification.

Public face (cryptography, pandas and matplotlib load inside the functions):

- rendering: :func:`write_reports` (report.html, report.md, junit.xml), :func:`bundle_tables`,
  :func:`export_tables` (CSV/Parquet)
- signing: :func:`generate_keypair`, :func:`build_statement` (in-toto Statement v1),
  :func:`sign_bundle` (DSSE envelope)
- verification: :func:`verify_bundle` (signature, digests, and every figure re-derived)
"""

from benchseal.reports.keys import generate_keypair
from benchseal.reports.render import write_reports
from benchseal.reports.statement import build_statement, sign_bundle
from benchseal.reports.tables import bundle_tables, export_tables
from benchseal.reports.verify import verify_bundle

__all__ = ["build_statement", "bundle_tables", "export_tables", "generate_keypair", "sign_bundle", "verify_bundle",
           "write_reports"]
