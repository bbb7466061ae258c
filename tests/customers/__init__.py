"""Tests of customer notices (customers/)."""
