"""A candidate that fails as it loads."""

raise RuntimeError("this candidate is broken at import")
