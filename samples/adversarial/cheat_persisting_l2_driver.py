"""Cheat (GPU): pins its input in L2 with a persisting access-policy window, set through the CUDA driver
API, so the harness's L2 flush between timed calls does not evict it.

The first call sets aside the largest persisting share of L2 the device allows (cuCtxSetLimit); each call
whose input lies elsewhere than the last's puts a window over its input's memory on the current stream
(cuStreamSetAttribute). The caching allocator gives the next call's input the same memory, and the stream
that draws it writes the new values as persisting lines: an ordinary flush cannot evict them, so the timed
row sum (row_sum_reference.py: a call's time is the time to read its input) reads from L2 rather than
from memory, which a real call never would. Its answer is torch's own sum, so every check of the values
passes: only the timing is forged.

Caught by nothing that rejects: the harness resets persisting-L2 lines before each flush (`L2Flusher`,
docs/PITFALLS.md 5), so the pinned lines are evictable again and the candidate times like the reference it
copies (no speedup). On the CPU there is no L2 to pin, and it is simply correct.
"""

import ctypes

import torch

CU_LIMIT_PERSISTING_L2_CACHE_SIZE = 0x06
CU_DEVICE_ATTRIBUTE_MAX_PERSISTING_L2_CACHE_SIZE = 108
CU_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW = 1
CU_ACCESS_PROPERTY_NORMAL, CU_ACCESS_PROPERTY_PERSISTING = 0, 2


class AccessPolicyWindow(ctypes.Structure):
    _fields_ = [
        ("base_ptr", ctypes.c_void_p),
        ("num_bytes", ctypes.c_size_t),
        ("hitRatio", ctypes.c_float),
        ("hitProp", ctypes.c_int),
        ("missProp", ctypes.c_int),
    ]


class StreamAttrValue(ctypes.Union):  # CUlaunchAttributeValue: 64 bytes
    _fields_ = [("accessPolicyWindow", AccessPolicyWindow), ("pad", ctypes.c_char * 64)]


_driver = None
_set_aside = 0
_window: tuple[int, int, int] = (0, 0, 0)  # the memory and stream the window was last put on


def _pin(x: torch.Tensor) -> None:
    global _driver, _set_aside, _window
    if _driver is None:
        _driver = ctypes.CDLL("libcuda.so.1")
        most = ctypes.c_int()
        _driver.cuDeviceGetAttribute(
            ctypes.byref(most), CU_DEVICE_ATTRIBUTE_MAX_PERSISTING_L2_CACHE_SIZE, x.device.index or 0
        )
        _set_aside = most.value
        _driver.cuCtxSetLimit(ctypes.c_int(CU_LIMIT_PERSISTING_L2_CACHE_SIZE), ctypes.c_size_t(_set_aside))
    where = (x.data_ptr(), x.nbytes, torch.cuda.current_stream().cuda_stream)
    if where == _window:  # the allocator gave this input the memory of the last: the window still holds
        return
    _window = where
    value = StreamAttrValue()
    share = min(1.0, _set_aside / max(x.nbytes, 1))
    value.accessPolicyWindow = AccessPolicyWindow(
        x.data_ptr(), x.nbytes, share, CU_ACCESS_PROPERTY_PERSISTING, CU_ACCESS_PROPERTY_NORMAL
    )
    stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
    _driver.cuStreamSetAttribute(
        stream, ctypes.c_int(CU_STREAM_ATTRIBUTE_ACCESS_POLICY_WINDOW), ctypes.byref(value)
    )


def row_sum(x: torch.Tensor) -> torch.Tensor:
    if x.is_cuda:
        _pin(x)
    return x.sum(dim=-1)
