import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aftersales.settings")
application = get_wsgi_application()


def _warm_up() -> None:
    from django.apps import apps

    if apps.is_installed("aftersales.knowledge"):
        from aftersales.knowledge.text import warm_up

        warm_up()


_warm_up()
