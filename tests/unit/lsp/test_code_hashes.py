"""A stored measurement is matched to the code by one content key: the one the harness writes for the job
a profile sends (core.measure.content_key of the file's text), never by the site's own hash."""

from __future__ import annotations

from pathlib import Path

from kernelwright.core.jobs import site_problem
from kernelwright.core.measure import content_key
from kernelwright.lsp.documents import CodeHashes, Documents, OpenDocument
from kernelwright.lsp.results import SiteRecord
from support.measurements import measurement

SOURCE = """import torch


def make_inputs():
    return (torch.randn(8),)


# kernelwright: bench inputs=make_inputs
def double(x):
    return x * 2
"""


def _open(path: Path, text: str) -> OpenDocument:
    path.write_text(text, encoding="utf-8")
    doc = Documents().for_path(path)
    assert doc is not None
    return doc


def _hashes(doc: OpenDocument) -> CodeHashes:
    site = doc.site("double")
    assert site is not None
    return CodeHashes(doc, site)


def test_a_stored_measurement_matches_the_content_key_of_the_job_it_came_from(tmp_path: Path) -> None:
    doc = _open(tmp_path / "k.py", SOURCE)
    site = doc.site("double")
    assert site is not None
    problem = site_problem(str(doc.path), doc.text, site)
    assert problem is not None
    written = content_key(problem.source)  # what the harness puts in Measurement.source_hash
    now = _hashes(doc)
    assert now.matches(written)
    assert not SiteRecord(measurement=measurement(source_hash=written)).stale(now)
    assert not now.matches(now.site)  # the site's own hash is no form of the content key


def test_an_edit_elsewhere_in_the_file_stales_a_stored_measurement_not_this_sessions(tmp_path: Path) -> None:
    before = _hashes(_open(tmp_path / "k.py", SOURCE))
    after = _hashes(_open(tmp_path / "k2.py", SOURCE.replace("randn(8)", "randn(16)")))
    stored = SiteRecord(measurement=measurement(source_hash=before.content))
    assert stored.stale(after)
    taken_here = SiteRecord(measurement=measurement(source_hash=before.content), site_hash=before.site)
    assert not taken_here.stale(after)  # the site's own text is unchanged
