"""Base templates, static assets and the pages that belong to no single domain app."""
