"""kernelwright.analysis"""
