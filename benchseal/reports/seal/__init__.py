"""benchseal.reports.seal: signing a bundle.

Public face: :func:`generate_keypair`, :func:`build_statement` (in-toto Statement v1),
:func:`sign_bundle` (DSSE envelope). cryptography loads inside the functions.
"""

from benchseal.reports.seal.keys import generate_keypair
from benchseal.reports.seal.statement import build_statement, sign_bundle

__all__ = ["build_statement", "generate_keypair", "sign_bundle"]
