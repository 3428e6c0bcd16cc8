"""junit.xml: one <testcase> per claim, for CI systems.

- PASS: a passing test case;
- FAIL: <failure type="FAIL"> (any severity; the classname carries the severity);
- INCONCLUSIVE: <error type="INCONCLUSIVE"> for a required claim (the run cannot support it),
  <skipped> for an advisory or informational one.
Each case's <system-out> holds the clause (zh/en), metric path, observed value and threshold.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .i18n import fmt_value, requirement
from .sections import Sections


def render_junit(s: Sections) -> str:
    prog = s.program_id or "no-program"
    verdicts = s.verdicts
    failures = sum(v["status"] == "FAIL" for v in verdicts)
    errors = sum(v["status"] == "INCONCLUSIVE" and v["severity"] == "required" for v in verdicts)
    skipped = sum(v["status"] == "INCONCLUSIVE" and v["severity"] != "required" for v in verdicts)
    root = ET.Element("testsuites", name="benchseal", tests=str(len(verdicts)), failures=str(failures), errors=str(errors), skipped=str(skipped))
    suite = ET.SubElement(root, "testsuite", name=f"benchseal.{prog}", tests=str(len(verdicts)), failures=str(failures),
                          errors=str(errors), skipped=str(skipped), timestamp=s.run.get("started_at") or "")
    props = ET.SubElement(suite, "properties")
    for k, v in (("run_id", s.run.get("run_id")), ("run_status", s.run.get("status")), ("program", prog),
                 ("model_digest", (s.view.model or {}).get("model_digest"))):
        ET.SubElement(props, "property", name=k, value=str(v or ""))
    for v in verdicts:
        case = ET.SubElement(suite, "testcase", classname=f"benchseal.{prog}.{v['severity']}", name=v["claim_id"], time="0")
        msg = v.get("reason", "")
        if v["status"] == "FAIL":
            ET.SubElement(case, "failure", type="FAIL", message=msg).text = msg
        elif v["status"] == "INCONCLUSIVE":
            tag = "error" if v["severity"] == "required" else "skipped"
            ET.SubElement(case, tag, type="INCONCLUSIVE", message=msg).text = msg
        ET.SubElement(case, "system-out").text = "\n".join([
            f"clause_zh: {v.get('clause_zh') or ''}", f"clause_en: {v.get('clause_en') or ''}", f"metric: {v['metric']}",
            f"requirement: {requirement(v)}", f"observed: {fmt_value(v.get('observed'), v.get('unit'))}",
            f"margin: {fmt_value(v.get('margin'))}", f"status: {v['status']}",
        ])
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
