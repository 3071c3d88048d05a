"""kernelwright.optimize"""
