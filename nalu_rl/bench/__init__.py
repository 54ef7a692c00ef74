"""Benchmarks: one module per `nalu-rl bench` target (env, train)."""
