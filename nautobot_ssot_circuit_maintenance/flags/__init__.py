"""Site isolation and lost redundancy: the pure analysis, the stored flags, their job and the overview's rows."""
