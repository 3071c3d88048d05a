"""kernelwright.store"""
