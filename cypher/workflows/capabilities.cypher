// Every capability some registered agent has: a step naming another one could never run.
MATCH (a:Agent)
UNWIND a.capabilities AS cap
RETURN collect(DISTINCT cap) AS capabilities
