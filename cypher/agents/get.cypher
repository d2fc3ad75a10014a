// One agent with its live load.
MATCH (a:Agent {id: $id})
RETURN properties(a) AS agent
