"""Helpers the tests share: loopback sites, fault sites, feed checks, process faults, ../shared material."""
