// The teams a principal is a member of (MEMBER_OF), and whether it exists.
OPTIONAL MATCH (p:Principal {id: coalesce($principalId, '')})
OPTIONAL MATCH (p)-[:MEMBER_OF]->(t:Team)
RETURN p IS NOT NULL AS found, collect(t.id) AS teams
