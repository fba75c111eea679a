#!/usr/bin/env python
"""Render a results file of ``bench/run.py`` as reStructuredText tables (for docs/performance.rst).

python bench/report.py bench/results-postgres-default.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

OPERATIONS = {
    "progress_one": "one learner",
    "roster_all": "roster",
    "roster_values": "roster as rows",
    "roster_page": "roster page",
    "me_progress": "me/progress",
    "record_time": "recording time",
    "submit": "submit",
    "quiz_analytics": "quiz analytics",
    "course_analytics": "course analytics",
    "export_small": "export 10k",
    "export_large": "export 100k",
}
SHORT = {
    "learning_progress_courseenrollment": "CourseEnrollment",
    "learning_progress_taskprogress": "TaskProgress",
    "learning_progress_quizattempt": "QuizAttempt",
    "learning_progress_quizresponse": "QuizResponse",
}


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def list_table(header: list[str], rows: list[list[str]], widths: list[int]) -> str:
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: " + " ".join(str(w) for w in widths),
        "",
    ]
    for row in [header, *rows]:
        lines.append(f"   * - {row[0]}")
        lines += [f"     - {cell}" for cell in row[1:]]
    return "\n".join(lines)


def results_table(report: dict[str, Any]) -> str:
    rows = []
    for op in report["operations"]:
        ours, naive = op["ours"], op.get("naive")
        label = op["label"].replace("*", "\\*")
        ours_ms = _ms(ours["ms"]) + (" (JIT)" if ours.get("jit") else "")
        ratio = f"{op['ratio']:.1f}x" if op.get("ratio") else "-"
        if ours.get("peak_mib") is not None and naive:
            ratio += (
                f" (memory {ours['peak_mib']:.1f} / {naive['peak_mib']:.1f} MiB:"
                f" {op['memory_ratio']:.0f}x)"
            )
        rows.append(
            [
                label,
                ours_ms,
                f"{ours['queries']:,}",
                _ms(naive["ms"]) if naive else "-",
                f"{naive['queries']:,}" if naive else "-",
                ratio,
            ]
        )
    header = ["Operation", "ours ms", "ours queries", "naive ms", "naive queries", "naive / ours"]
    return list_table(header, rows, [40, 10, 8, 10, 8, 24])


def storage_tables(report: dict[str, Any]) -> str:
    tables = report["storage"]["tables"]
    if not tables or "bytes_per_row" not in tables[0]:
        return ""
    rows = []
    for t in tables:
        rows.append(
            [
                SHORT.get(t["table"], t["table"]),
                f"{t['rows']:,}",
                f"{t['table_bytes_per_row']:.0f}",
                f"{t['index_bytes'] / t['rows']:.0f}" if t["rows"] else "-",
                f"{t['bytes_per_row']:.0f}",
                f"{t['total_bytes'] / 1024 / 1024:,.1f}",
            ]
        )
    header = ["Table", "rows", "table B/row", "indexes B/row", "total B/row", "total MiB"]
    out = [list_table(header, rows, [22, 14, 10, 10, 10, 10])]
    if "indexes" in tables[0]:
        rows = []
        for t in tables:
            for index in t["indexes"]:
                definition = index["definition"]
                columns = definition.split(" USING btree ", 1)[-1]
                kind = "unique " if definition.startswith("CREATE UNIQUE") else ""
                if index["name"].endswith("_pkey"):
                    kind = "primary key "
                rows.append(
                    [
                        f"{SHORT.get(t['table'], t['table'])} {kind}{columns}".replace("*", "\\*"),
                        f"{index['bytes'] / 1024 / 1024:,.1f}",
                        f"{index['bytes_per_row']:.1f}",
                        ", ".join(OPERATIONS.get(k, k) for k in index["used_by"]) or "-",
                    ]
                )
        header = ["Index", "MiB", "B/row", "used by (EXPLAIN of the benchmark's queries)"]
        out.append(list_table(header, rows, [40, 8, 8, 30]))
    return "\n\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.results:
        report = json.loads(path.read_text(encoding="utf-8"))
        print(f".. {path.name}: {report['command']}\n")
        print(results_table(report))
        print()
        storage = storage_tables(report)
        if storage:
            print(storage)
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
