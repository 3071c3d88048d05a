"""kernelwright.engine"""
