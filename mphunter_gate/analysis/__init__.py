"""Static analysis: install- and import-time scripts -> canonical API-call sequences.

MPHunter steps 1-2 (see DESIGN.md): call graph + CFGs walked depth- and
breadth-first, names resolved to full API names, then shortened and filtered
into the model's tokens; plus static decoding of literal payloads, provenance
for every call, and a tolerant path for text `ast` cannot parse. Nothing is
ever imported or executed.

Modules: `names` (scopes, imports), `callgraph` (definitions), `events`
(expressions -> calls), `decode` (literal payloads), `cfg` (basic blocks),
`walk` (DFS/BFS), `fallback` (token pass), `script` (orchestration, bounds),
`canonical` (tokens, bad-API list), `limits` (every cap in one place).
"""

from __future__ import annotations

from mphunter_gate.analysis.canonical import load_bad_apis, tokens
from mphunter_gate.analysis.script import analyse

__all__ = ["analyse", "load_bad_apis", "tokens"]
