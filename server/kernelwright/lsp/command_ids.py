"""The commands the server offers, by id: lenses, code actions and editors call them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class CommandId(enum.StrEnum):
    PROFILE = "kernelwright.profile"
    OPTIMIZE = "kernelwright.optimize"
    CANCEL = "kernelwright.cancel"
    SHOW_HISTORY = "kernelwright.showHistory"
    CLEAR_RESULTS = "kernelwright.clearResults"
    # Offers an optimize result again after its edit could not be applied (the text moved on).
    APPLY_RESULT = "kernelwright.applyResult"
    # A result as a client shows it for review (the file as it would read), and dropping it (Reject).
    REVIEW_RESULT = "kernelwright.reviewResult"
    DISCARD_RESULT = "kernelwright.discardResult"
    # For tests and bug reports: which heavy modules this process has loaded, and its state.
    DEBUG_STATE = "kernelwright.debugState"


@dataclass(frozen=True)
class SiteRef:
    """A site as commands name it: the document's URI and the site's name."""

    uri: str
    name: str

    def as_argument(self) -> dict[str, str]:
        return {"uri": self.uri, "site": self.name}

    @staticmethod
    def from_arguments(args: tuple[Any, ...]) -> SiteRef:
        """Read `[{"uri": ..., "site": ...}]` or `[uri, site]`; raise ValueError saying what is expected."""
        if len(args) == 1 and isinstance(args[0], dict):
            uri, name = args[0].get("uri"), args[0].get("site")
        elif len(args) == 2:
            uri, name = args
        else:
            uri = name = None
        if not isinstance(uri, str) or not isinstance(name, str):
            raise ValueError(
                f"expected one argument {{'uri': DOCUMENT_URI, 'site': SITE_NAME}} (or two: uri, site), "
                f"got {list(args)!r}"
            )
        return SiteRef(uri, name)
