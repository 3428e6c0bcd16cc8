from tests.reports.conftest import sample_bundle, sample_bundle_copy  # noqa: F401  (shared fixtures)
