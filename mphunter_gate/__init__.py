"""mphunter-gate: a static pre-install gate against malicious Python packages."""

__version__ = "0.1.0"
