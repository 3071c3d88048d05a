"""The re-check policy of a profile: verify against the last version that ran well only when the site
changed since (or did not match it last time)."""

from __future__ import annotations

from kernelwright.lsp.results import SiteRecord
from support.measurements import measurement

GOOD = "def f(x):\n    return x + 1\n"


def test_nothing_to_recheck_before_a_site_ever_ran_well() -> None:
    assert SiteRecord().recheck_against("h1") is None


def test_unchanged_code_is_not_rechecked() -> None:
    record = SiteRecord(measurement=measurement(), site_hash="h1", verified_source=GOOD)
    assert record.recheck_against("h1") is None


def test_changed_code_is_checked_against_the_last_good_file() -> None:
    record = SiteRecord(measurement=measurement(), site_hash="h1", verified_source=GOOD)
    assert record.recheck_against("h2") == GOOD


def test_code_that_did_not_match_last_time_is_checked_again_even_unchanged() -> None:
    record = SiteRecord(
        measurement=measurement(), site_hash="h2", verified_source=GOOD, mismatch="value: ..."
    )
    assert record.recheck_against("h2") == GOOD
