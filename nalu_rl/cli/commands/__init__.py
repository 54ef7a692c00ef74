"""Sub-commands of ``nalu-rl``, one module each (see :mod:`nalu_rl.cli`)."""
