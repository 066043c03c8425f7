"""Static files under content-hashed, compressed names (whitenoise), once `collectstatic` has run.

`make run`, `make test` and `aftersales serve` run `collectstatic`, which writes
``var/static/staticfiles.json`` and the hashed, gzipped copies; whitenoise serves those names with a
one-year immutable cache. Before it has run (a fresh checkout, a bare `pytest`), or when a file was
added since (a stale manifest in a developer's var/), the page links the file's plain name, which
whitenoise serves from the apps (WHITENOISE_USE_FINDERS), and a warning says to run collectstatic.
A name that no app has at all still fails loudly, as Django's storage does: that is a typo.
"""

from __future__ import annotations

import logging

from django.contrib.staticfiles import finders
from whitenoise.storage import CompressedManifestStaticFilesStorage

log = logging.getLogger(__name__)


class HashedStaticStorage(CompressedManifestStaticFilesStorage):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.plain_names: set[str] = set()  # linked under the plain name, warned about once

    def stored_name(self, name):
        if name in self.plain_names:
            return name
        try:
            return super().stored_name(name)
        except ValueError:
            if not finders.find(name):
                raise
            if self.hashed_files:  # a manifest, but older than this file
                log.warning("static file %s is not in %s: run `aftersales collectstatic`", name, self.manifest_name)
            self.plain_names.add(name)
            return name
