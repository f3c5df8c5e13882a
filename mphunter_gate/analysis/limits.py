"""Bounds that keep one hostile file from stalling or exhausting the gate.

Every script is attacker-controlled text. These caps are the only thing
between a 5 MB one-line file, a 10,000-deep expression or a zip bomb in a
string literal and a CI job that hangs; they live in one place so the
trade-off between coverage and cost is visible and testable.
"""

from __future__ import annotations

#: Source text beyond this is cut before analysis (the archive stage caps files at 1 MB).
MAX_TEXT_CHARS = 8_000_000
#: `ast.parse` is tried only when the code, with long string literals removed, is this small;
#: parse time grows about linearly (~0.9 s/MB for pathological chains), so this bounds it.
MAX_AST_CODE_CHARS = 512 * 1024
#: A one-line string literal at least this long counts as "literal", not code.
LONG_LITERAL_RUN = 200
#: Emergency wall-clock limit for one script, decoded payloads included. It exists only so
#: hostile input the counted budgets below do not foresee cannot hang CI; a correct run never
#: reaches it (the counted budgets keep every known file well under the 2 s target). Reaching
#: it makes the result depend on machine load, so the analysis is marked truncated and logged.
EMERGENCY_TIME_S = 10.0
#: Longest canonical sequence kept; inlining can otherwise grow output exponentially.
MAX_SEQUENCE_CALLS = 20_000
#: How deep callees are inlined into their callers.
MAX_INLINE_DEPTH = 12
#: Largest string/bytes value the static evaluator keeps (decoded payloads included).
MAX_VALUE_CHARS = 2_000_000
#: Largest input a decoder is applied to (bigger literals are left undecoded).
MAX_DECODE_INPUT = 4_000_000
#: Longest list/tuple the evaluator builds (e.g. for `''.join(chr(c) for c in [...])`).
MAX_VALUE_ITEMS = 200_000
#: Work the static evaluator may do for one script and its payloads together: a unit per
#: `eval` call and per node folded (per operator on the integer path), per item of a list
#: value, per 256 characters of a string value, per 4 input bytes of a slow decoder (see
#: `decode`). Past it every evaluation is unknown and the result is truncated. No known
#: file comes near: at most 16,415 units in 9,846 malicious setup.py files, 14,641 in
#: 55,851 benign .py files. The costliest hostile pattern measured (a comprehension of
#: calls) runs ~1 us a unit, so this is ~0.5 s.
EVAL_WORK_BUDGET = 500_000
#: Characters of a decoded payload kept as its preview.
PREVIEW_CHARS = 120
#: Tokens (plus regex-scan lines and matches) the tolerant fallback reads before it stops,
#: shared by every token pass of one script and its payloads.
FALLBACK_TOKEN_BUDGET = 300_000
#: Logical lines longer than this are not re-parsed with `ast` in the fallback.
MAX_REPARSE_LINE_CHARS = 64 * 1024
#: Events a walk may visit (inlining without output could otherwise grow exponentially).
MAX_WALK_STEPS = 100_000
#: Events all walks of one script may visit together: DFS, BFS and the walks of its decoded
#: payloads share it, as they share the cost. Once it is spent walks are "late": a walk still
#: emits MIN_CALLS_LATE calls (and visits at most MAX_WALK_STEPS_LATE events), so the BFS
#: walk is never empty just because DFS used the budget.
WALK_STEP_BUDGET = 200_000
MIN_CALLS_LATE = 1_000
MAX_WALK_STEPS_LATE = 20_000
#: Decoded payloads one script may have analysed, and their total size in characters;
#: a payload past either (or met after the walk budget is spent) is left unanalysed.
PAYLOAD_BUDGET = 1_000
PAYLOAD_CHAR_BUDGET = 1_000_000
