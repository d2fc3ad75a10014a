// Conformance: how many Probe nodes (and with which owner) exist.
MATCH (n:Probe)
RETURN count(n) AS n, collect(n.owner) AS owners
