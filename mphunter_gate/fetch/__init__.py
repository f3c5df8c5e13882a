"""The fetch stage: from a resolved release to the bytes of the files pip would install.

`index` talks to the package index (pages, downloads, hash checks, cache),
`metadata` reads a release's dependencies without building it, `choose`
picks the file the installer would take for each target, and `archive`
reads those files the way pip unpacks them. Nothing here runs package code.
"""
