"""kernelwright.lsp"""
