// Context: the current, unexpired facts about an entity and its neighbourhood within $hops
// relations (0..3) that the reader may read, nearest first, then newest, then surest.
// The reader is an agent ($agentId) or a human principal ($principalId); the grant filter
// is here, in the statement: team CAN_READ the fact's domain, and CLEARED_FOR its
// sensitivity label if it has one. $all (admins, auditors) reads everything.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
MATCH p = (:Entity {id: coalesce($entityId, '')})-[:DEPENDS_ON|PART_OF|OWNED_BY|RELATES_TO*0..3]-(n:Entity)
WHERE length(p) <= $hops
WITH domains, cleared, n, min(length(p)) AS dist
MATCH (f:Fact)-[:ABOUT]->(n)
WHERE f.current AND (f.validTo IS NULL OR f.validTo > $now)
  AND ($all OR (f.domain IN domains AND (f.sensitivity IS NULL OR f.sensitivity IN cleared)))
RETURN f {.id, .key, .value, .confidence, .observedAt, .validTo, .current, .sensitivity,
          .agentId, .entityId, .domain} AS fact, dist
ORDER BY dist ASC, f.observedAt DESC, f.confidence DESC
LIMIT $limit
