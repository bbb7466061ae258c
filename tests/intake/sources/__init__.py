"""Tests of intake/sources."""
