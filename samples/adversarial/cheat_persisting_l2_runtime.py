"""Cheat (GPU): pins its input in L2 with a persisting access-policy window, as
cheat_persisting_l2_driver.py does, but through the CUDA runtime library that torch itself loaded (found
in this process's memory map): cudaDeviceSetLimit sets aside L2 for persisting lines, and
cudaStreamSetAttribute puts a window over its input on the current stream. The next call's input, drawn
into the same memory by the same stream, is written as persisting lines that an ordinary flush cannot
evict.

Caught by nothing that rejects: the harness resets persisting-L2 lines before each flush (`L2Flusher`,
docs/PITFALLS.md 5), so the candidate times like the torch sum it calls. Where torch's runtime is not
a library of its own, the cheat does nothing; on the CPU it is simply correct.
"""

import ctypes

import torch

cudaLimitPersistingL2CacheSize = 0x06
cudaDevAttrMaxPersistingL2CacheSize = 108
cudaStreamAttributeAccessPolicyWindow = 1
cudaAccessPropertyNormal, cudaAccessPropertyPersisting = 0, 2


class cudaAccessPolicyWindow(ctypes.Structure):
    _fields_ = [
        ("base_ptr", ctypes.c_void_p),
        ("num_bytes", ctypes.c_size_t),
        ("hitRatio", ctypes.c_float),
        ("hitProp", ctypes.c_int),
        ("missProp", ctypes.c_int),
    ]


class cudaStreamAttrValue(ctypes.Union):  # cudaLaunchAttributeValue: 64 bytes
    _fields_ = [("accessPolicyWindow", cudaAccessPolicyWindow), ("pad", ctypes.c_char * 64)]


def _torch_runtime() -> ctypes.CDLL | None:
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "/libcudart" in path:
                return ctypes.CDLL(path)
    return None


_runtime: ctypes.CDLL | None = None
_set_aside = 0
_window: tuple[int, int, int] = (0, 0, 0)  # the memory and stream the window was last put on


def _pin(x: torch.Tensor) -> None:
    global _runtime, _set_aside, _window
    if _runtime is None:
        _runtime = _torch_runtime()
        if _runtime is None:
            return
        most = ctypes.c_int()
        _runtime.cudaDeviceGetAttribute(
            ctypes.byref(most), cudaDevAttrMaxPersistingL2CacheSize, x.device.index or 0
        )
        _set_aside = most.value
        _runtime.cudaDeviceSetLimit(ctypes.c_int(cudaLimitPersistingL2CacheSize), ctypes.c_size_t(_set_aside))
    where = (x.data_ptr(), x.nbytes, torch.cuda.current_stream().cuda_stream)
    if where == _window:  # the allocator gave this input the memory of the last: the window still holds
        return
    _window = where
    value = cudaStreamAttrValue()
    value.accessPolicyWindow = cudaAccessPolicyWindow(
        x.data_ptr(),
        x.nbytes,
        min(1.0, _set_aside / max(x.nbytes, 1)),
        cudaAccessPropertyPersisting,
        cudaAccessPropertyNormal,
    )
    stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
    _runtime.cudaStreamSetAttribute(
        stream, ctypes.c_int(cudaStreamAttributeAccessPolicyWindow), ctypes.byref(value)
    )


def row_sum(x: torch.Tensor) -> torch.Tensor:
    if x.is_cuda:
        _pin(x)
    return x.sum(dim=-1)
