// Why an assertFact wrote nothing: unknown agent or entity, no read grant, unknown sources
// (a fact the agent may not read counts as unknown: the answer reveals nothing about it).
OPTIONAL MATCH (a:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (e:Entity {id: coalesce($entityId, '')})
OPTIONAL MATCH (a)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(d:Domain)<-[:IN_DOMAIN]-(e)
WITH a, e, count(d) > 0 AS readable
OPTIONAL MATCH (a)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(rd:Domain)
WITH a, e, readable, collect(DISTINCT rd.id) AS domains
OPTIONAL MATCH (a)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(l:Label)
WITH a, e, readable, domains, collect(DISTINCT l.name) AS cleared
OPTIONAL MATCH (sf:Fact)
WHERE sf.id IN $derivedFrom
WITH a, e, readable, domains, cleared, collect(sf) AS found
WITH a, e, readable, [x IN found WHERE x.domain IN domains
                      AND (x.sensitivity IS NULL OR x.sensitivity IN cleared) | x.id] AS facts
OPTIONAL MATCH (st:Task)
WHERE st.id IN $derivedFrom
WITH a, e, readable, facts, collect(st.id) AS tasks
OPTIONAL MATCH (e)-[:IN_DOMAIN]->(dom:Domain)
WITH a, e, readable, facts + tasks AS known, dom
RETURN a IS NOT NULL AS agent, e IS NOT NULL AS entity, readable,
       NOT dom.id IN coalesce(a.pDenyDomains, [])
         AND (a.pAllowDomains IS NULL OR dom.id IN a.pAllowDomains) AS allowed,
       [i IN $derivedFrom WHERE NOT (i IN known)] AS missing
