// What governs an agent doing $action on $resourceId: the agent's effective (materialised)
// rules, the domain of the resource when it is an entity, and every policy that applies with
// its level (3 agent, 2 team, 1 global), most specific first.
MATCH (a:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (x:Entity {id: coalesce($resourceId, '')})-[:IN_DOMAIN]->(d:Domain)
OPTIONAL MATCH (pa:Policy)-[:APPLIES_TO]->(a)
WITH a, d, collect(pa) AS pas
OPTIONAL MATCH (a)-[:MEMBER_OF]->(:Team)<-[:APPLIES_TO]-(pt:Policy)
WITH a, d, pas, collect(pt) AS pts
OPTIONAL MATCH (pg:Policy {scope: 'global'})
WITH a, d, [p IN pas | [3, properties(p)]] + [p IN pts | [2, properties(p)]] AS scoped,
     collect(pg) AS pgs
RETURN properties(a) AS agent, d.id AS domain,
       scoped + [p IN pgs | [1, properties(p)]] AS policies
