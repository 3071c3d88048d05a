"""The language server: pygls glue only, one module per LSP feature.

server.py builds it; editor_protocol.py is pygls's protocol with UTF-16 positions and bounded input;
app.py holds the session state; convert.py is every to_lsp_* conversion and present.py every piece of
wording. Features: sync (incremental didOpen/didChange/didSave/didClose), lenses, hover, diagnostics
(+ run_findings), inlay_hints, code_actions, commands, work_done ($/progress), configuration (settings),
lifecycle, watcher (watchdog) and autoprofile. Long work: profile.py and optimize_run.py run as
background jobs (site_jobs.py) through engine_link.py; results live in results.py and, per workspace
root, in the store (persistence.py). This process never imports torch or triton.
"""
