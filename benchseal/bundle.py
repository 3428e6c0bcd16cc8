"""Names of the files in an evidence bundle (one directory per run). See docs/bundle.md."""

RUN_JSON = "run.json"
HARDWARE_JSON = "hardware.json"
MODEL_JSON = "model.json"
PERF_DIR = "perf"
PERF_REQUESTS = "perf/requests.jsonl"
PERF_SUMMARY = "perf/summary.json"
PERF_SERVER_LOG = "perf/server.log"
PERF_SERVER_SCRAPES = "perf/server_scrapes.jsonl"  # raw /metrics scrapes, one JSON line each
PERF_SERVER_METRICS = "perf/server_metrics.json"  # server-side figures derived from them
TELEMETRY_CSV = "telemetry.csv"
EVAL_DIR = "eval"  # eval/<suite>/results.json, eval/<suite>/samples_<task>.jsonl
EVAL_RESULTS = "results.json"
CLAIMS_JSON = "claims.json"
PROGRAM_JSON = "program.json"  # the resolved program whose claims were checked (thresholds included)
LM_EVAL_RESULTS = "lm_eval_results.json"  # eval/<suite>/ raw lm-eval results
STATEMENT_JSON = "statement.json"
STATEMENT_DSSE = "statement.dsse.json"
REPORT_HTML = "report.html"
REPORT_MD = "report.md"
JUNIT_XML = "junit.xml"
PLOTS_DIR = "plots"

# Files that are outputs of signing/rendering and therefore not subjects of the statement.
NOT_SUBJECTS = frozenset({STATEMENT_JSON, STATEMENT_DSSE})
