"""Fax pages: a TIFF (often several CCITT G4 pages) turned into one PNG per page, because browsers
do not show TIFF. The original is kept beside the pages; the PNGs are for display only."""

from __future__ import annotations

import io

# A fax is a few pages; a TIFF of hundreds of pages, or of a huge page, is not a fax (and converting
# it would hold a web worker for long).
MAX_PAGES = 30
MAX_PIXELS = 40_000_000  # an A4 page at 600 dpi is about 35 million


class NotAFax(ValueError):
    """The file claims to be a TIFF but cannot be read as one, or is larger than a fax."""


def tiff_pages(data: bytes) -> list[bytes]:
    """Each page of the TIFF as PNG bytes, in order. Raises NotAFax when unreadable or too large."""
    from PIL import Image, ImageSequence, UnidentifiedImageError

    pages = []
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "TIFF":
                raise NotAFax("not a TIFF")
            if getattr(image, "n_frames", 1) > MAX_PAGES:
                raise NotAFax("too many pages")
            for frame in ImageSequence.Iterator(image):
                if frame.width * frame.height > MAX_PIXELS:
                    raise NotAFax("page too large")
                # Bilevel fax pages stay 1-bit (small PNGs); anything else is kept as grey or colour.
                page = frame.copy() if frame.mode in ("1", "L", "RGB") else frame.convert("RGB")
                out = io.BytesIO()
                page.save(out, format="PNG", optimize=True)
                pages.append(out.getvalue())
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise NotAFax(str(exc)) from None
    if not pages:
        raise NotAFax("no page")
    return pages
