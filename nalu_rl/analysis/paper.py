"""What Trask et al. (2018, §4.5) report for the timing task: the reference our results are drawn against.

The paper gives no table: the numbers are read off its Figure 5 (bottom), average episode
reward against the instructed T, to about ±0.05, and its text ("performed well on the task
for T ≤ 19, whereas performance of the standard A3C agent deteriorated for T > 13").
"""

from __future__ import annotations

# Figure 5 (bottom), read off: T -> average episode reward.
FIGURE5 = {
    "lstm": {13: 0.98, 14: 0.71, 15: 0.62, 17: 0.33, 19: 0.08, 20: -0.08, 21: -0.24, 25: -0.89},
    "lstm_nac": {13: 1.0, 14: 0.95, 15: 0.93, 17: 0.86, 19: 0.73, 20: 0.30, 21: 0.05, 25: 0.0},
}
FIGURE5_LABELS = {"lstm": "A3C (LSTM)", "lstm_nac": "A3C + NAC"}
# The paper's measure on those curves: horizon (reward >= 0.7 from T = 8) and mean reward over T = 13..20.
REWARD_HORIZONS = {"lstm": 14, "lstm_nac": 19}
REWARD_13_20 = {"lstm": 0.42, "lstm_nac": 0.81}
# Exact-success horizons as the text states them.
HORIZONS = {"lstm": 13, "lstm_nac": 19}


def paper_agent(agent: str) -> str | None:
    """The paper's agent a preset stands for: ``lstm`` the baseline, every ``lstm_nac*`` reading the NAC agent."""
    if agent == "lstm":
        return "lstm"
    if agent.startswith("lstm_nac"):
        return "lstm_nac"
    return None
