"""The demo data set (``aftersales demo``): the network, the archive and, through each app's own
builder, the service orders, SLA clocks and knowledge articles. Builders live in ``build.py``; this
package imports nothing, so that Django can load the app before the models."""
