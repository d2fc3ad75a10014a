// The uniqueness constraints FalkorDB already has, so start-up creates only missing ones:
// a GRAPH.CONSTRAINT CREATE that fails ("already exists") is still written to the
// append-only file, and every replay then logged it as a CRITICAL error, once per start.
CALL db.constraints() YIELD type, label, properties, entitytype
RETURN type, label, properties, entitytype
