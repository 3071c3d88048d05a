"""The HTML report is self-contained: an inline SVG plot, the attempts, the diff, escaped text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from kernelwright.optimize.events import Attempt, OptimizeResult, Status
from kernelwright.optimize.report import render_report, speedup_plot

ATTEMPTS = (
    Attempt(1, "r1-original", 1, True, 1.01, 100.0, None, is_baseline=True),
    Attempt(2, "r1-a", 1, True, 1.8, 55.0, None),
    Attempt(3, "r1-b<script>", 1, False, None, None, "value"),
    Attempt(4, "r2-c", 2, True, 2.4, 41.0, None),
)


def test_plot_is_valid_svg_with_a_point_per_timed_attempt() -> None:
    svg = speedup_plot(ATTEMPTS)
    root = ET.fromstring(svg)
    circles = root.findall("{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 3
    polyline = root.find("{http://www.w3.org/2000/svg}polyline")
    assert polyline is not None and len(polyline.attrib["points"].split()) == 2  # best-so-far after r1-a


def test_report_has_no_external_resources_and_escapes_names() -> None:
    result = OptimizeResult(
        Status.IMPROVED,
        "att",
        "/w/k.py",
        "Model",
        "r2-c is 2.40x faster",
        baseline_us=99.0,
        best_speedup=2.4,
        best_us=41.0,
        attempts=ATTEMPTS,
        new_file_text="x = 2\n",
        device="NVIDIA H100",
    )
    page = render_report(result, "x = 1\n")
    assert "<svg" in page and "-x = 1" in page and "+x = 2" in page
    assert "<script>" not in page and "r1-b&lt;script&gt;" in page
    assert not re.search(r"""(src|href)=["']https?:""", page)
