"""Machinery every layer shares: atomic files, argument checks, error text, stop signals, devices.

It imports nothing else from nalu_rl, so any module may use it.
"""
