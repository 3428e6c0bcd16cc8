"""The report's content as plain rows, shared by the HTML and Markdown renderers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .i18n import RUN_STATUS, STATUS, bi
from .view import BundleView

Table = tuple[list[str], list[list[Any]]]


@dataclass
class Sections:
    view: BundleView

    # --- header ------------------------------------------------------------------------------
    @property
    def run(self) -> dict[str, Any]:
        return self.view.run

    @property
    def program_id(self) -> str | None:
        return self.view.program_id

    @property
    def program_title_zh(self) -> str | None:
        return self.view.program.name_zh if self.view.program is not None else None

    @property
    def program_title_en(self) -> str | None:
        return self.view.program.name_en if self.view.program is not None else None

    @property
    def template(self) -> bool:
        return bool(self.view.program is not None and self.view.program.template)

    @property
    def source_url(self) -> str | None:
        return self.view.program.source_url if self.view.program is not None else None

    @property
    def verdicts(self) -> list[dict[str, Any]]:
        return list((self.view.claims or {}).get("verdicts", []))

    @property
    def out_of_scope(self) -> list[dict[str, str]]:
        if self.view.claims and self.view.claims.get("out_of_scope"):
            return list(self.view.claims["out_of_scope"])
        if self.view.program is not None:
            return [o.model_dump() for o in self.view.program.out_of_scope]
        return []

    @property
    def files(self) -> list[str]:
        return list(self.run.get("files") or [])

    def summary_line(self) -> str:
        status = self.run.get("status", "unknown")
        parts = [f"{bi('run_status')}: {bi(status, RUN_STATUS)}"]
        if self.view.claims is None:
            parts.append(bi("no_claims"))
        else:
            counts = {s: sum(v["status"] == s for v in self.verdicts) for s in STATUS}
            parts.append(", ".join(f"{bi(s, STATUS)}: {n}" for s, n in counts.items()))
            parts.append(bi("overall_pass" if self.view.claims.get("passed") else "overall_fail"))
        digest = (self.view.model or {}).get("model_digest")
        if digest:
            parts.append(f"{bi('model_digest')}: {digest}")
        return " · ".join(parts)

    def spec_rows(self) -> list[list[Any]]:
        """Scalar settings of the run spec, the backend's as ``backend.<field>`` (credential-looking keys redacted)."""
        spec = dict(self.view.spec)
        backend = spec.pop("backend", None)
        flat = list(spec.items())
        if isinstance(backend, dict):
            flat += [(f"backend.{k}", v) for k, v in backend.items()]
        return [[k, v] for k, v in flat if v is not None and not isinstance(v, (dict, list))]

    def stage_rows(self) -> list[list[Any]]:
        return [[name, bi(st.get("status", "?"), RUN_STATUS), st.get("error") or ""]
                for name, st in (self.run.get("stages") or {}).items()]

    # --- evidence tables -----------------------------------------------------------------------
    def model_rows(self) -> list[list[Any]]:
        m = self.view.model
        if not m:
            return [[bi("model"), bi("missing")]]
        p = m.get("params") or {}
        return [
            ["source", m.get("source")],
            [bi("architecture"), m.get("architecture") or "—"],
            ["dtype", m.get("dtype") or "—"],
            [bi("params_total"), p.get("total")],
            [bi("params_active"), p.get("active")],
            [bi("params_embedding"), p.get("embedding")],
            [bi("params_method"), p.get("method") or "—"],
            [bi("model_digest"), m.get("model_digest") or "—"],
        ]

    def gpu_table(self) -> Table:
        hw = self.view.hardware or {}
        host = hw.get("host") or {}
        heads = ["host", "#", "GPU", "UUID", "memory GiB", "driver", "CUDA", "power limit W", "ECC", "MIG", "peak BF16 TFLOPS"]
        rows = []
        for g in hw.get("gpus") or []:
            mem = g.get("memory_total_bytes")
            mem = int(mem) / 2**30 if mem is not None else None
            peak = ((g.get("peak") or {}).get("tflops") or {}).get("bf16")
            rows.append([host.get("hostname"), g.get("index"), g.get("name"), g.get("uuid") or "—", mem, g.get("driver_version") or "—",
                         g.get("cuda_driver_version") or "—", g.get("power_limit_w"), g.get("ecc_enabled"), g.get("mig_enabled"), peak])
        if not rows:
            rows.append([host.get("hostname") or bi("missing")] + ["—"] * (len(heads) - 1))
        return heads, rows

    def compute_table(self) -> Table:
        comp = (self.view.hardware or {}).get("compute") or {}
        dtypes = sorted(comp.get("total_tflops") or {})
        heads = ["server", "vendor", "model", "count"] + [f"{d} TFLOPS" for d in dtypes]
        rows = [[r.get("server"), r.get("vendor"), r.get("model"), r.get("count")] + [(r.get("tflops_total") or {}).get(d) for d in dtypes]
                for r in comp.get("rows") or []]
        if comp:
            rows.append(["total", "", f"{comp.get('servers', 0)} server(s)", comp.get("gpus")] + [comp["total_tflops"].get(d) for d in dtypes])
        for name in comp.get("unknown_gpus") or []:
            rows.append(["", "", f"{name} (no datasheet entry, not counted)", ""] + [""] * len(dtypes))
        return heads, rows

    def perf_table(self) -> Table:
        heads = ["load point", "completed", "failed", "TTFT p50 ms", "TTFT p99 ms", "TPOT p50 ms", "ITL p99 ms", "E2EL p99 ms",
                 "req/s", "output tok/s", "output tok/s/GPU", "MFU", "MBU"]
        rows = []
        for lp in (self.view.perf or {}).get("load_points") or []:
            u = lp.get("utilisation") or {}
            def st(k: str, q: str, lp: dict = lp) -> Any:
                return (lp.get(k) or {}).get(q)

            rows.append([lp.get("load_point"), lp.get("completed"), lp.get("failed"), st("ttft_ms", "p50"), st("ttft_ms", "p99"),
                         st("tpot_ms", "p50"), st("itl_ms", "p99"), st("e2el_ms", "p99"), lp.get("request_throughput"),
                         lp.get("output_token_throughput"), u.get("output_tokens_per_s_per_gpu"), u.get("mfu"), u.get("mbu")])
        return heads, rows

    def server_table(self) -> Table | None:
        """Client against server per load point (perf/server_metrics.json); None when not collected."""
        sm = self.view.server_metrics
        if not sm:
            return None
        heads = ["load point", "requests server / client", "TTFT mean ms client / server (overhead)",
                 "per-request TTFT overhead p50 / p99 ms", "E2EL mean ms client / server (overhead)",
                 "server TTFT p50 / p99, ITL p50 / p99 ms (est.)", "tokens out client / usage / server; in usage / server",
                 "running mean, waiting max, KV max; notes"]

        def f(*vals: Any) -> str:
            return " / ".join("—" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v) for v in vals)

        def over(c: Any, sv: Any, d: Any) -> str:
            return f(c, sv) + (f" ({d:+.3g})" if isinstance(d, (int, float)) else "")

        rows = []
        for lp in sm.get("load_points") or []:
            rc = lp.get("reconciliation") or {}
            per = rc.get("per_request_ttft_overhead_ms") or {}

            def q(k: str, key: str, lp: dict = lp) -> Any:
                return (lp.get(k) or {}).get(key)

            notes = [lp["reason"]] if lp.get("reason") else [f"{k}: {v}" for k, v in (lp.get("absent") or {}).items()]
            if lp.get("warmup_included"):
                notes.append(f"includes {lp['warmup_included']} warm-up request(s)")
            load = f(q("running", "mean"), q("waiting", "max"), q("kv_cache_usage", "max"))
            rows.append([lp.get("load_point"), f(rc.get("server_requests"), rc.get("client_requests")),
                         over(rc.get("client_ttft_mean_ms"), rc.get("server_ttft_mean_ms"), rc.get("ttft_overhead_ms")),
                         f(per.get("p50"), per.get("p99")) if per else "—",
                         over(rc.get("client_e2el_mean_ms"), rc.get("server_e2el_mean_ms"), rc.get("e2el_overhead_ms")),
                         f(q("ttft_ms", "p50_ms"), q("ttft_ms", "p99_ms")) + "; " + f(q("itl_ms", "p50_ms"), q("itl_ms", "p99_ms")),
                         f(rc.get("client_output_tokens"), rc.get("usage_output_tokens"), rc.get("server_generation_tokens"))
                         + "; " + f(rc.get("usage_prompt_tokens"), rc.get("server_prompt_tokens")),
                         "; ".join([load] + notes)])
        if not rows and sm.get("reason"):
            rows.append(["—"] * (len(heads) - 1) + [sm["reason"]])
        return heads, rows

    def eval_table(self) -> Table:
        heads = ["suite", "task", "metric", "value", "stderr", "n", "few-shot", bi("claim_grade")]
        rows = []
        for suite, rep in self.view.evals.items():
            for r in rep.get("results") or []:
                rows.append([suite, r.get("task"), r.get("metric"), r.get("value"), r.get("stderr"), r.get("n"), r.get("num_fewshot"),
                             "yes" if rep.get("claim_grade") else "no: " + "; ".join(rep.get("not_claim_grade_reasons") or [])])
        return heads, rows

    def lightweight_table(self) -> Table | None:
        """lightweight/lightweight.json as rows (figure, full, light, light/full); None without it."""
        import json

        from benchseal import bundle as layout

        p = self.view.root / layout.LIGHTWEIGHT_JSON
        if not p.is_file():
            return None
        try:
            lw = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        w, m, pf, par = (lw.get(k) or {} for k in ("weights", "memory", "perf", "parity"))
        rows: list[list[Any]] = [
            ["weight files (bytes)", w.get("full_bytes"), w.get("light_bytes"), w.get("bytes_ratio")],
            ["loaded weights (bytes)", m.get("full_weights_bytes"), m.get("light_weights_bytes"), m.get("weights_ratio")],
            [f"peak memory (bytes, {m.get('peak_kind') or m.get('full_peak_kind') or '?'})", m.get("full_peak_bytes"),
             m.get("light_peak_bytes"), m.get("peak_ratio")],
        ]
        for lp in pf.get("load_points") or []:
            name = lp.get("load_point")
            rows += [[f"{name}: output tok/s", lp.get("full_output_token_throughput"), lp.get("light_output_token_throughput"),
                      lp.get("output_token_throughput_ratio")],
                     [f"{name}: TTFT p99 ms", lp.get("full_ttft_p99_ms"), lp.get("light_ttft_p99_ms"), lp.get("ttft_p99_ratio")],
                     [f"{name}: E2EL p99 ms", lp.get("full_e2el_p99_ms"), lp.get("light_e2el_p99_ms"), lp.get("e2el_p99_ratio")]]
        for t in par.get("tasks") or []:
            rows.append([f"{t.get('task')} {t.get('metric')} (agreement {t.get('agreement')})", t.get("full"), t.get("light"),
                         t.get("ratio")])
        rows += [[f"— {k}", "", "", why] for k, why in (lw.get("unavailable") or {}).items()]
        return ["figure", "full model", "light variant", "light / full"], rows


# --- the top of the report: the verdict first, then where it comes from -------------------------
VERIFY_CMD = "benchseal verify BUNDLE --key public.pem"


@dataclass(frozen=True)
class Verdict:
    """The overall verdict over the required claims, for the banner at the top of the report."""

    kind: str  # "pass" | "fail" | "inconclusive" | "none"
    zh: str
    en: str
    counts: dict[str, int]  # status -> number of claims (all severities)
    required: int


def overall(s: "Sections") -> Verdict:
    verdicts = s.verdicts
    counts = {st: sum(v["status"] == st for v in verdicts) for st in STATUS}
    if s.view.claims is None or not verdicts:
        return Verdict("none", "未指定申报项目，未进行指标核验", "No program given: no claims were checked", counts, 0)
    req = [v for v in verdicts if v["severity"] == "required"]
    failed = sum(v["status"] == "FAIL" for v in req)
    inconclusive = sum(v["status"] == "INCONCLUSIVE" for v in req)
    if not failed and not inconclusive:
        return Verdict("pass", f"全部 {len(req)} 项必需指标通过", f"All {len(req)} required claims pass", counts, len(req))
    zh, en = [], []
    if failed:
        zh.append(f"{failed} 项必需指标未通过")
        en.append(f"{failed} required claim{'s' if failed != 1 else ''} failed")
    if inconclusive:
        zh.append(f"{inconclusive} 项必需指标无法判定")
        en.append(f"{inconclusive} required claim{'s' if inconclusive != 1 else ''} inconclusive")
    kind = "fail" if failed else "inconclusive"
    return Verdict(kind, "，".join(zh) + f"（共 {len(req)} 项必需指标）", "; ".join(en) + f" (of {len(req)} required)", counts, len(req))


def hardware_line(view: BundleView) -> str:
    from .binding import serving_hardware_missing, serving_hardware_source

    hw = view.hardware
    if not hw:
        return serving_hardware_missing(view.run or {}) or "— (hardware stage did not run)"
    host = hw.get("host") or {}
    gpus = hw.get("gpus") or []
    where = f"{host.get('hostname') or '?'}: {host.get('cpu_model') or '?'}, {host.get('cpu_cores_logical') or '?'} CPU threads"
    if not gpus:
        return f"无 NVIDIA GPU / no NVIDIA GPU (CPU-only run) — {where}"
    names: dict[str, int] = {}
    for g in gpus:
        names[g.get("name") or "?"] = names.get(g.get("name") or "?", 0) + 1
    comp = hw.get("compute") or {}
    servers = comp.get("servers") or 1
    src = serving_hardware_source(view.run or {})
    return (", ".join(f"{n} × {name}" for name, n in names.items()) + f" on {servers} server(s) — {where}"
            + (f" [{src}]" if src else ""))


def key_id(view: BundleView, given: str | None = None) -> str | None:
    """The signing key id: given by the signer, else read from statement.dsse.json when the bundle is signed."""
    if given:
        return given
    from benchseal import bundle as layout

    p = view.root / layout.STATEMENT_DSSE
    if p.is_file():
        try:
            import json

            sigs = json.loads(p.read_text(encoding="utf-8")).get("signatures") or []
            ids = [str(x.get("keyid")) for x in sigs if x.get("keyid")]
            return ", ".join(ids) or None
        except (OSError, ValueError, AttributeError):
            return None
    return None


def bundle_digest(view: BundleView) -> str | None:
    """sha256 of statement.json (which lists every bundle file's sha256) when the bundle is signed."""
    from benchseal import bundle as layout
    from benchseal.io import sha256_file

    p = view.root / layout.STATEMENT_JSON
    return sha256_file(p) if p.is_file() else None


def provenance_rows(s: "Sections", signing_key_id: str | None = None) -> list[list[Any]]:
    m = s.view.model or {}
    run = s.run
    kid = key_id(s.view, signing_key_id)
    prog = f"{s.program_title_zh or '—'} / {s.program_title_en or '—'}" + (f" ({s.program_id})" if s.program_id else "")
    return [
        [bi("program"), prog],
        [bi("model"), f"{m.get('source') or '—'} ({m.get('architecture') or '?'}, {m.get('dtype') or '?'})" if m else bi("missing")],
        [bi("model_digest"), m.get("model_digest") or "—"],
        [bi("hardware"), hardware_line(s.view)],
        [bi("tool"), f"{run.get('tool', 'benchseal')} {run.get('tool_version', '')}".strip()],
        [bi("run_id"), run.get("run_id") or "—"],
        [bi("run_status"), bi(run.get("status", "unknown"), RUN_STATUS)],
        [bi("started") + " → " + bi("ended"), f"{run.get('started_at') or '—'} → {run.get('ended_at') or '—'}"],
        [bi("key_id"), kid or bi("key_id_after")],
        [bi("how_to_verify"), VERIFY_CMD + "  (" + bi("verify_hint") + ")"],
    ] + ([[bi("choices"), choices_line(run.get("choices"))]] if run.get("choices") else [])


def choices_line(ch: Any) -> str:
    """run.json ``choices`` in one line: what the applicant chose that the program did not fix (claims.choices)."""
    if not isinstance(ch, dict):
        return "—"
    parts = []
    wl = ch.get("workload") or {}
    if wl:
        parts.append(f"workload {wl.get('name')}" + ("" if wl.get("shipped") else " (not the shipped file)")
                     + ("" if wl.get("name") == wl.get("program") else f" (program: {wl.get('program')})"))
    for s in ch.get("suites") or []:
        parts.append(f"suite {s.get('name')}" + ("" if s.get("shipped") else " (not the shipped file)"))
    for cid, t in (ch.get("thresholds") or {}).items():
        parts.append(f"threshold {cid} = {t.get('value')} (applicant-set)")
    if ch.get("config_dirs"):
        parts.append("config folders " + ", ".join(ch["config_dirs"]))
    if ch.get("eval_limit") is not None:
        parts.append(f"--limit {ch['eval_limit']}")
    if ch.get("judge"):
        parts.append(f"judge {ch['judge'].get('model')} @ {ch['judge'].get('endpoint')}")
    for k, v in (ch.get("references") or {}).items():
        parts.append(f"{k} {v}")
    return "; ".join(parts) or "—"
