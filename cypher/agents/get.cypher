// One agent with its live load.
MATCH (a:Agent {id: coalesce($id, '')})
RETURN properties(a) AS agent
