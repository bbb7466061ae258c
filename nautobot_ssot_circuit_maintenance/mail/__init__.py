"""Stored mail below the records: what one message may cost, its header block, packing, text PostgreSQL accepts, the readable view."""
