// Add a source, or change its settings ($row: {id, format, location, precedence, domain,
// intervalS, options}), audited as source.added / source.changed. A removed source comes
// back active. No write when nothing differs. New settings that change what its entities
// become (precedence, domain, where or how it is read) make the next sync rewrite them all.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (old:Source {id: $row.id})
WITH c, old
WHERE old IS NULL OR old.format <> $row.format OR old.location <> $row.location
   OR old.precedence <> $row.precedence OR old.domain <> $row.domain
   OR old.intervalS <> $row.intervalS OR old.options <> $row.options OR old.status <> 'active'
WITH c, old IS NULL AS added,
     old IS NOT NULL AND (old.precedence <> $row.precedence OR old.domain <> $row.domain
                          OR old.format <> $row.format OR old.location <> $row.location
                          OR old.options <> $row.options) AS reset
MERGE (s:Source {id: $row.id})
ON CREATE SET s.createdAt = $now
SET s.format = $row.format, s.location = $row.location, s.precedence = $row.precedence,
    s.domain = $row.domain, s.intervalS = $row.intervalS, s.options = $row.options,
    s.status = 'active', s.dueAt = CASE WHEN $row.intervalS > 0 THEN $now ELSE null END,
    s.inputHash = null
WITH c, s, added, reset
OPTIONAL MATCH (s)<-[cl:SOURCED_FROM]-(:Entity)
WITH c, s, added, reset, collect(cl) AS claims
FOREACH (x IN CASE WHEN reset THEN claims ELSE [] END | SET x.hash = null)
WITH c, s, added
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: CASE WHEN added THEN 'source.added' ELSE 'source.changed' END,
                 at: $now, actor: $actor, subject: s.id, payload: $payload})
CREATE (e)-[:ON]->(s)
RETURN s.id AS id
