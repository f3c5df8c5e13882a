"""Synthetic packages that probe the gate from both sides, written as text into archives
and never run: `cases.py`, one evasion technique per malicious package beside a benign
twin of the same shape (judged by `bench/adversarial.py`, shape-checked by
`tests/test_adversarial.py`), so a miss names the technique and a failed twin names a
shape the gate punishes by itself; `legit.py`, what legitimate builds do."""
