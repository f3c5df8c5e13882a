"""The bundled model artifacts (see manifest.json).

A package only so that the wheel ships these files as mphunter_gate._models.
"""
