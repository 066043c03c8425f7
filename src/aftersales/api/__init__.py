"""The HTTP API: one NinjaAPI instance, its authentication and its error format.
Routers live in each domain app's ``api.py``; this package only assembles them."""
