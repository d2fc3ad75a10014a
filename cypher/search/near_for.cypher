// Object-level read grants (README "Who may read what"): the reader is the caller, an agent
// ($agentId) or another principal ($principalId, its teams' grants); $callerId is the calling
// principal; $all for admins and auditors. The first block reads the caller's readable domains
// and cleared labels off its own node (readDomains / readLabels, kept by the statements that
// change memberships and grants); then each row is filtered by its label's readable clause
// (fact, entity, task, proposal; the generic one where labels mix), each the same text in
// every statement (tests/security/test_grant_clause.py checks it).
// Search by graph proximity: readable current facts about the entity $near and the entities
// within 2 relations of it (either way, as context/for_entity walks), and those entities
// themselves, nearest first (facts: then newest), at most $k of each, with their distance.
// The anchor must be readable too: one the reader may not read gives nothing, like a
// missing one.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
MATCH (n:Entity {id: coalesce($near, '')})
WITH n, domains, cleared, coalesce($all OR (all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains)), false) AS ok
WHERE ok
MATCH p = (n)-[:DEPENDS_ON|PART_OF|OWNED_BY|RELATES_TO*0..2]-(m:Entity)
WITH domains, cleared, m, min(length(p)) AS dist
MATCH (f:Fact)-[:ABOUT]->(m)
WHERE f.current AND (f.validTo IS NULL OR f.validTo > $now)
WITH domains, cleared, f AS n, dist
WITH n, dist, coalesce($all OR (n.domain IN domains AND (n.sensitivity IS NULL OR n.sensitivity IN cleared)), false) AS ok
WHERE ok AND n.current AND (n.validTo IS NULL OR n.validTo > $now)
  AND ($kinds IS NULL OR any(kp IN $kinds WHERE n.key STARTS WITH kp))
WITH n, dist
ORDER BY dist ASC, n.observedAt DESC, n.id
LIMIT $k
WITH collect({label: 'fact', id: n.id, key: n.key, value: n.value, entityId: n.entityId,
              domain: n.domain, confidence: n.confidence, observedAt: n.observedAt,
              distance: dist}) AS hits
RETURN 'fact' AS label, size(hits) AS seen, hits
UNION ALL
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
MATCH (n:Entity {id: coalesce($near, '')})
WITH n, domains, cleared, coalesce($all OR (all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains)), false) AS ok
WHERE ok
MATCH p = (n)-[:DEPENDS_ON|PART_OF|OWNED_BY|RELATES_TO*1..2]-(m:Entity)
WHERE m.id <> n.id
WITH domains, cleared, m, min(length(p)) AS dist
WITH domains, cleared, m AS n, dist
WITH n, dist, coalesce($all OR (all(y IN [(n)-[:IN_DOMAIN]->(ed:Domain) | ed.id] WHERE y IN domains)), false) AS ok
WHERE ok AND coalesce(n.status, 'active') <> 'retired'
  AND ($kinds IS NULL OR n.kind IN $kinds)
WITH n, dist
ORDER BY dist ASC, n.id
LIMIT $k
WITH collect({label: 'entity', id: n.id, name: n.name, kind: n.kind,
              domain: head([(n)-[:IN_DOMAIN]->(hd:Domain) | hd.id]), distance: dist}) AS hits
RETURN 'entity' AS label, size(hits) AS seen, hits
