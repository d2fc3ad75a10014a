// Every team with its grants and members (the same columns as teams/get), by id.
MATCH (t:Team)
WITH t
ORDER BY t.id
LIMIT $limit
RETURN t.id AS id, t.name AS name, coalesce(t.rev, 0) AS rev,
       [(t)-[:CAN_READ]->(rd:Domain) | rd.id] AS canRead,
       [(t)-[:CAN_ACT]->(ad:Domain) | ad.id] AS canAct,
       [(t)-[:CLEARED_FOR]->(l:Label) | l.name] AS cleared,
       [(p:Principal)-[:MEMBER_OF]->(t) | p.id] AS members,
       [(a:Agent)-[:MEMBER_OF]->(t) | a.id] AS agents
