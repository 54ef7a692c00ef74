"""Evaluation below the agents: the engine that rolls any ``predict``-agent out per T, and the measures of its results.

Agents (in-training evaluation), analysis (run folders, files, figures, reports) and the scripts build on it;
it imports only the environment and ``common``.
"""
