"""The floor of the stack (issue 14): a bare Django + django-ninja endpoint that validates a body and
writes five rows in one transaction, served by the same granian command line, worker count and
database settings as the app. `make bench` measures it beside the intake, so the intake's figures
read as a share of what this stack can do on this machine (``intake_vs_floor``)."""
