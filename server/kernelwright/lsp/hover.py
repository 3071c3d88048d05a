"""Hover: on a site, its last measurement (or how to give it a spec); on a finding, its rationale; on a
hot line, its share of the site's time."""

from __future__ import annotations

from lsprotocol import types

from kernelwright.core.site import Position, Site
from kernelwright.lsp.app import KernelwrightServer
from kernelwright.lsp.convert import from_lsp_position, to_lsp_hover
from kernelwright.lsp.diagnostics import findings_of
from kernelwright.lsp.documents import OpenDocument, code_hashes
from kernelwright.lsp.present import how_to_add_spec, line_cost_hover, measurement_table, spec_summary
from kernelwright.lsp.results import SiteKey


def _on_header(site: Site, pos: Position) -> bool:
    """On the site's name, or anywhere on its header (directive, decorators, the `def`/`class` line)."""
    return site.name_range.contains(pos) or site.range.start.line <= pos.line <= site.name_range.start.line


def hover_markdown(ls: KernelwrightServer, doc: OpenDocument, pos: Position) -> str | None:
    parts: list[str] = []
    for site in doc.result.sites:
        record = ls.session.results.get(SiteKey(doc.path, site.name))
        if _on_header(site, pos):
            if record.measurement is not None:
                stale = record.stale(code_hashes(doc, site))
                parts.append(measurement_table(record.measurement, stale))
            elif site.spec is None:
                parts.append(how_to_add_spec(site, doc.site_text(site)))
            else:
                summary = spec_summary(site) or ""
                parts.append(f"**{site.name}**: {summary}. Not measured yet: use the Profile lens.")
        elif record.measurement is not None and site.range.overlaps_lines(pos.line, pos.line):
            for cost in record.measurement.line_costs:
                if cost.line == pos.line:
                    parts.append(line_cost_hover(cost, record.measurement))
    for finding in findings_of(ls, doc):
        if finding.range.contains(pos):
            parts.append(
                f"**{finding.rule} {finding.name}**: {finding.message}\n\n_Why_: {finding.rationale}"
            )
    return "\n\n---\n\n".join(parts) if parts else None


def register(server: KernelwrightServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: KernelwrightServer, params: types.HoverParams) -> types.Hover | None:
        doc = ls.session.documents.get(params.text_document.uri)
        if doc is None:
            return None
        markdown = hover_markdown(ls, doc, from_lsp_position(params.position))
        return to_lsp_hover(markdown, None) if markdown else None
