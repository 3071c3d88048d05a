"""Mean cross-entropy over a GPT-2-sized vocabulary, written out as log_softmax, gather, mean.

Eager PyTorch materialises the full (TOKENS, VOCAB) log-probability matrix (393 MiB) only to gather
one entry per row from it, then reduces: the whole cost is memory traffic on a tensor the result does
not need. A faster version is one kernel per row that computes the logsumexp online and subtracts
the target's logit, never writing the log-probabilities, then a tiny mean (as fused CE kernels do).
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

TOKENS = 2048
VOCAB = 50257

CPU_TOKENS = 64
CPU_VOCAB = 2048


class Model(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        log_probs = F.log_softmax(logits, dim=-1)
        picked = log_probs.gather(1, targets.unsqueeze(1)).squeeze(1)
        return -picked.mean()


def get_inputs():
    return [torch.randn(TOKENS, VOCAB), torch.randint(0, VOCAB, (TOKENS,))]


def get_init_inputs():
    return []


def get_cpu_inputs():
    return [torch.randn(CPU_TOKENS, CPU_VOCAB), torch.randint(0, CPU_VOCAB, (CPU_TOKENS,))]


def get_cpu_init_inputs():
    return []
