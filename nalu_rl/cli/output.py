"""What more than one command prints."""

from __future__ import annotations

from typing import Any


def print_report(report: dict[str, Any]) -> None:
    """The per-agent table of a :func:`nalu_rl.analysis.report.make_report` result and where its files are."""
    print(report["markdown"].split("\n\n")[0])  # the per-agent table
    print()
    print(f"figures: {report['files']['figure']} ({report['files']['success']}, {report['files']['arrival']})")
    print(f"table:   {report['files']['report']}")
