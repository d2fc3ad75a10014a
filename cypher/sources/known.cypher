// The entities and domains a sync's records point at but do not define (one read): which
// exist, and each entity's domain (a record without a domain inherits its parent's).
OPTIONAL MATCH (e:Entity)
WHERE e.id IN $ids
WITH collect({id: e.id, domain: head([(e)-[:IN_DOMAIN]->(d:Domain) | d.id])}) AS entities
OPTIONAL MATCH (d2:Domain)
WHERE d2.id IN $domains
RETURN entities, collect(d2.id) AS domains
