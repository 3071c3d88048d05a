"""kernelwright.core"""
