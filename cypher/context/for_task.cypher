// Context for a task: what the *reader* (the caller: an agent, a human principal, or $all
// for auditors) may read about the entities the task touches and their neighbourhood within
// $hops relations (same grants and order as context/for_entity). Never the task's agent's
// grants on someone else's behalf.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
MATCH (t:Task {id: coalesce($taskId, '')})
MATCH p = (t)-[:TOUCHES]->(:Entity)-[:DEPENDS_ON|PART_OF|OWNED_BY|RELATES_TO*0..3]-(n:Entity)
WHERE length(p) <= $hops + 1
WITH domains, cleared, n, min(length(p)) - 1 AS dist
MATCH (f:Fact)-[:ABOUT]->(n)
WHERE f.current AND (f.validTo IS NULL OR f.validTo > $now)
  AND ($all OR (f.domain IN domains AND (f.sensitivity IS NULL OR f.sensitivity IN cleared)))
RETURN f {.id, .key, .value, .confidence, .observedAt, .validTo, .current, .sensitivity,
          .agentId, .entityId, .domain} AS fact, dist
ORDER BY dist ASC, f.observedAt DESC, f.confidence DESC
LIMIT $limit
