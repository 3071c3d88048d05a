"""A stand-in job handler for the engine's transport tests: no harness, same worker and protocol.

Jobs: ping, echo (returns its payload), env (reads variables), run (loads a candidate file like the
harness does and calls its ModelNew on the reference's inputs), sleep_then_echo.
"""

import os
import runpy


def handle(job_type, payload):
    if job_type == "ping":
        return {"pid": os.getpid(), "device": payload.get("device"), "handler": "fault_handler"}
    if job_type == "echo":
        return payload
    if job_type == "env":
        return {name: os.environ.get(name) for name in payload["names"]}
    if job_type == "run":
        reference = runpy.run_path(payload["reference"])
        candidate = runpy.run_path(payload["candidate"])
        model = candidate["ModelNew"](*reference["get_init_inputs"]())
        out = model(*reference["get_inputs"]())
        return {"numel": int(out.numel())}
    raise KeyError(f"unknown job type {job_type!r}")
