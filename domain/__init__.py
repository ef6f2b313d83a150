"""Rantai's domain: the aggregates of the vaccine cold chain and the campaign.

Pure Python: imports only the standard library and ``eventsourcing.domain``.
"""
