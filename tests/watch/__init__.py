"""Tests of watch."""
