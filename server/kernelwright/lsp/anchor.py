"""Where an optimize result goes when the person kept typing: re-anchor its edit, or refuse.

The edit was computed against the file as it was when optimize started. If the file is unchanged it
applies as computed. Otherwise it applies only where the optimized text still stands, unchanged, at the
site of that name (found again in the new analysis); if the site is gone or its text was edited, there
is no safe place for it and the caller must not touch the buffer.
"""

from __future__ import annotations

from kernelwright.core.site import Range
from kernelwright.core.text import position_at, range_offsets


def anchor_edit(
    text: str, text_hash: str, original_hash: str, rng: Range, old_text: str, site_now: Range | None
) -> Range | None:
    """The range in `text` to replace with the result, or None when there is no safe place."""
    if text_hash == original_hash:
        return rng
    if site_now is None or not old_text:
        return None
    site_start, site_end = range_offsets(text, site_now)
    best: int | None = None
    at = text.find(old_text)
    while at >= 0:
        end = at + len(old_text)
        # The optimized text must lie at the site: overlap the site's current span.
        if (
            at < site_end
            and end > site_start
            and (best is None or abs(at - site_start) < abs(best - site_start))
        ):
            best = at
        at = text.find(old_text, at + 1)
    if best is None:
        return None
    return Range(position_at(text, best), position_at(text, best + len(old_text)))
