"""What more than one command prints."""

from __future__ import annotations

from typing import Any


def print_report(report: dict[str, Any]) -> None:
    """The per-agent tables of a :func:`nalu_rl.analysis.report.make_report` result (the paper's measure, exact
    success, and for runs evaluated while training, time to mastery and the late score) and where its files are."""
    for warning in report.get("warnings", []):
        print(f"warning: {warning}")
    blocks = report["markdown"].split("\n\n")
    print(blocks[0])  # the paper's measure per agent
    print()
    print(blocks[2])  # exact success per agent
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
