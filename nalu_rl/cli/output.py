"""What more than one command prints."""

from __future__ import annotations

from typing import Any


def print_report(report: dict[str, Any]) -> None:
    """The per-agent table of a :func:`nalu_rl.analysis.report.make_report` result and where its files are."""
    for warning in report.get("warnings", []):
        print(f"warning: {warning}")
    print(report["markdown"].split("\n\n")[0])  # the per-agent table
    print(f"(scored: {report['checkpoints']})")
    if report.get("training"):
        from nalu_rl.analysis.training_curves import late_markdown, mastery_markdown

        print()
        print(mastery_markdown(report["training"]).rstrip())
        print()
        print(late_markdown(report["training"]).rstrip())
    print()
    print(f"figures: {report['files']['figure']} ({report['files']['success']}, {report['files']['arrival']})")
    if "training_curves" in report["files"]:
        print(f"curves:  {report['files']['training_curves']} ({report['files']['training_csv']})")
    print(f"table:   {report['files']['report']}")
