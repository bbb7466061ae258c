"""Stored mail below the records.

What one message may cost, its header block, packing, text PostgreSQL accepts, the readable view.
"""
