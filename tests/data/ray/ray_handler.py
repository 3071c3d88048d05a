"""A stand-in job handler for the Ray backend's tests: the fault handler's jobs, plus `span`.

`span` sleeps for payload["seconds"] and returns when it ran (wall-clock, comparable across processes)
and in which process, so a test can see which jobs overlapped.
"""

import os
import time

from fault_handler import handle as fault_handle


def handle(job_type, payload):
    if job_type == "span":
        start = time.time()
        time.sleep(payload["seconds"])
        return {"start": start, "end": time.time(), "pid": os.getpid()}
    return fault_handle(job_type, payload)
