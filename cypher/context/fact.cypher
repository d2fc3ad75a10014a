// One fact with its history (what it superseded, what contradicts it), if the reader may read
// it (same grants as context/for_entity). History and contradictions name only facts the
// reader may read too. Facts come back without their vector (a map of the fields, not
// properties()); FalkorDB projects a null node to a map of nulls, hence collect(h) first.
OPTIONAL MATCH (ra:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (rp:Principal {id: coalesce($principalId, '')})
WITH coalesce(ra, rp) AS reader
WITH coalesce(reader.readDomains, []) AS domains, coalesce(reader.readLabels, []) AS cleared
MATCH (f:Fact {id: coalesce($id, '')})
WHERE $all OR (f.domain IN domains AND (f.sensitivity IS NULL OR f.sensitivity IN cleared))
OPTIONAL MATCH (f)-[:SUPERSEDES*1..50]->(h:Fact)
WHERE $all OR (h.domain IN domains AND (h.sensitivity IS NULL OR h.sensitivity IN cleared))
WITH domains, cleared, f,
     [x IN collect(h) | x {.id, .key, .value, .confidence, .observedAt, .validTo, .current,
                           .sensitivity, .agentId, .entityId, .domain}] AS history
OPTIONAL MATCH (f)-[:CONTRADICTS]-(x:Fact)
WHERE $all OR (x.domain IN domains AND (x.sensitivity IS NULL OR x.sensitivity IN cleared))
RETURN f {.id, .key, .value, .confidence, .observedAt, .validTo, .current, .sensitivity,
          .agentId, .entityId, .domain} AS fact, history, collect(x.id) AS contradicts
