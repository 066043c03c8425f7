"""`aftersales cti ...`: the phone system.

  cti integration NAME --org CODE     a new phone-system integration; prints its token and secret once
  cti extension USERNAME EXT          seat an agent at an extension
  cti ami --host H --port P --username U --secret S --url URL --token T --signing-secret K
                                      read Asterisk's manager interface and post its call events
  cti simulate --url URL [--token T --signing-secret K | --demo] [--calls N] [--speed X]
                                      play a realistic day of calls into a running site
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

DEMO_TOKEN = "cti_demo_token_for_make_run_only"
DEMO_SECRET = "demo-secret-for-make-run-only"


class Command(BaseCommand):
    help = "The phone system (CTI): integrations, extensions, the Asterisk AMI adapter, the call simulator."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        p = sub.add_parser("integration", help="Create a phone-system integration (prints token and secret once).")
        p.add_argument("name")
        p.add_argument("--org", required=True, help="The organization's code whose calls these are.")
        p = sub.add_parser("extension", help="Seat an agent at an extension.")
        p.add_argument("username")
        p.add_argument("extension")
        for name in ("ami", "simulate"):
            p = sub.add_parser(name)
            p.add_argument("--url", default=os.environ.get("AFTERSALES_CTI_URL", "http://127.0.0.1:8000"))
            p.add_argument("--token", default=os.environ.get("AFTERSALES_CTI_TOKEN", ""))
            p.add_argument("--signing-secret", default=os.environ.get("AFTERSALES_CTI_SECRET", ""))
            p.add_argument("--demo", action="store_true", help="Use the demo site's phone system (make run).")
            if name == "ami":
                p.add_argument("--host", default="127.0.0.1")
                p.add_argument("--port", type=int, default=5038)
                p.add_argument("--username", required=True)
                p.add_argument("--secret", default=os.environ.get("AFTERSALES_AMI_SECRET", ""))
                p.add_argument("--max-events", type=int, default=None)
            else:
                p.add_argument("--calls", type=int, default=120)
                p.add_argument("--speed", type=float, default=60.0, help="Day seconds per real second.")
                p.add_argument("--seed", type=int, default=2026)
                p.add_argument("--extensions", default="", help="Comma-separated; default: the agents' extensions here.")
                p.add_argument("--quiet", action="store_true")

    def handle(self, *args, what, **opts):
        getattr(self, f"do_{what}")(**opts)

    def do_integration(self, *, name, org, **_):
        from aftersales.accounts.models import Organization
        from aftersales.calls.services import phone_system_create

        organization = Organization.objects.filter(code=org).first()
        if organization is None:
            raise CommandError(f"no organization with code {org}")
        system, token, secret = phone_system_create(name=name, organization_id=organization.pk)
        self.stdout.write(f"phone system #{system.pk} {system.name}\ntoken:  {token}\nsecret: {secret}\n"
                          "Keep both: they are not shown again.")

    def do_extension(self, *, username, extension, **_):
        from aftersales.accounts.models import User
        from aftersales.calls.services import extension_set

        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user {username}")
        extension_set(user=user, extension=extension)
        self.stdout.write(f"{username} -> {extension}")

    def _poster(self, opts):
        from aftersales.calls.client import EventPoster

        token, secret = opts["token"], opts["signing_secret"]
        if opts["demo"]:
            token, secret = DEMO_TOKEN, DEMO_SECRET
        if not token or not secret:
            raise CommandError("--token and --signing-secret (or AFTERSALES_CTI_TOKEN / AFTERSALES_CTI_SECRET, or --demo)")
        return EventPoster(opts["url"], token, secret)

    def do_ami(self, **opts):
        from aftersales.calls import ami

        poster = self._poster(opts)
        posted = ami.run(host=opts["host"], port=opts["port"], username=opts["username"], secret=opts["secret"],
                         post=poster.post, max_events=opts["max_events"])
        self.stdout.write(f"{posted} events posted")

    def do_simulate(self, **opts):
        from aftersales.calls import simulate
        from aftersales.calls.models import AgentExtension
        from aftersales.registry.models import CustomerPhone

        poster = self._poster(opts)
        extensions = [e for e in opts["extensions"].split(",") if e] or list(
            AgentExtension.objects.order_by("extension").values_list("extension", flat=True)) or ["8001"]
        # Known callers: numbers of this installation's archive when it is the site's database.
        known = [n.removeprefix("+86") for n in CustomerPhone.objects.order_by("?").values_list("number", flat=True)[:300]]
        planned = simulate.plan_day(calls=opts["calls"], extensions=extensions, known_numbers=known, seed=opts["seed"])

        def log(event):
            if not opts["quiet"]:
                self.stdout.write(f"{event['at'][11:19]} {event['kind']:<11} {event['call_id']} ext {event['extension']}")

        sent = simulate.play(planned, poster.post, speed=opts["speed"], log=log)
        self.stdout.write(f"{sent} events sent ({opts['calls']} calls)")
