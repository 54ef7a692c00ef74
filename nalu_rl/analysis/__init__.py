"""Evaluation, reports and statistics."""
