"""Issue 6: bad input, training faults, concurrent users, security and nothing-lost guarantees."""
