"""kernelwright: GPU-kernel performance work inside the editor."""

__version__ = "0.1.0"
