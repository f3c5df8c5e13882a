"""What is known about a release before any of its code is read.

Four cheap defences that need no model, each one module with one job:

- `advisories`: OSV malware records (OpenSSF malicious-packages, osv.dev),
  read offline; a listed release fails whatever its score.
- `age`: a minimum release age ("cooldown"), since most malicious and
  compromised releases are found and removed within hours to days.
- `yanked`: PEP 592 yanked releases, judged by pip's own rule (installed
  only when pinned exactly).
- `lookalike`: names one edit, a separator, a homoglyph or a reordering away
  from a far more downloaded project: a warning, and extra scrutiny of the
  package's files.

Each turns facts into `PolicyHit`s (`types.py`); `verdict` folds the hits and
the scan's own verdict into one row verdict, for the gate and the allowlist
alike. Data flows one way: the gate hands each module what the index and the
dependency files said, and nothing here reaches back into the scan.
"""
