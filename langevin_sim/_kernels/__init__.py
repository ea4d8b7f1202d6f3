"""Numba kernels: small standalone loops that import nothing of the package.

The Python layer validates inputs and allocates outputs; kernels only compute.
"""
