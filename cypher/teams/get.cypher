// One team with its grants: the domains it may read (CAN_READ) and act in (CAN_ACT), the
// sensitivity labels it is CLEARED_FOR, its member principals and agents. `rev` counts its
// changes (teams/set re-checks it, so a change is made against the state it was read from).
MATCH (t:Team {id: coalesce($id, '')})
RETURN t.id AS id, t.name AS name, coalesce(t.rev, 0) AS rev,
       [(t)-[:CAN_READ]->(rd:Domain) | rd.id] AS canRead,
       [(t)-[:CAN_ACT]->(ad:Domain) | ad.id] AS canAct,
       [(t)-[:CLEARED_FOR]->(l:Label) | l.name] AS cleared,
       [(p:Principal)-[:MEMBER_OF]->(t) | p.id] AS members,
       [(a:Agent)-[:MEMBER_OF]->(t) | a.id] AS agents
