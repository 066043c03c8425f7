from __future__ import annotations

from django.db import models


class FloorRow(models.Model):
    """One of the five rows each request writes (an order-sized row: text, numbers, a time, JSON)."""

    kind = models.CharField(max_length=20)
    seq = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    data = models.JSONField(default=dict)
    at = models.DateTimeField()

    class Meta:
        app_label = "floor"
        db_table = "bench_floor_row"
