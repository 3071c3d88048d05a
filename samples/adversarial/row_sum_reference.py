"""Reference problem (function convention): the sum of each row of a 24 MiB input, which is read once and
reduced to a small output, so a call's time is the time to read its input: what an input kept in L2
through the harness's flush would forge (docs/PITFALLS.md 5). The input fits in the persisting share of
an H100's or H200's L2 (about 31 MiB of 50 MiB)."""

import torch


def make_inputs():
    return (torch.randn(1024, 6144),)


def make_cpu_inputs():
    return (torch.randn(16, 4096),)


# kernelwright: bench inputs=make_inputs cpu_inputs=make_cpu_inputs
def row_sum(x: torch.Tensor) -> torch.Tensor:
    return x.sum(dim=-1)
