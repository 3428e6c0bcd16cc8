"""Helpers shared by the unit and integration tiers (not tests themselves)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
