"""kernelwright.harness"""
