// Why an assertFact wrote nothing: unknown agent or entity, no read grant, unknown sources
// (a fact the agent may not read counts as unknown: the answer reveals nothing about it).
OPTIONAL MATCH (a:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (e:Entity {id: coalesce($entityId, '')})
WITH a, e, coalesce(a.readDomains, []) AS domains, coalesce(a.readLabels, []) AS cleared
WITH a, e, domains, cleared,
     coalesce(any(y IN [(e)-[:IN_DOMAIN]->(cd:Domain) | cd.id] WHERE y IN domains), false)
       AS readable
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
