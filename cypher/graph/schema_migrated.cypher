// Record that the migration to $version ran (and so the model is at $version), with one
// schema.migrated event. Re-checked under the counter lock: replicas starting together
// record it once. No row: it was recorded already.
OPTIONAL MATCH (g:Schema {id: 'graph'})
WITH g
WHERE coalesce(g.version, 0) < $version
WITH 1 AS due
LIMIT 1
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
MERGE (s:Schema {id: 'graph'})
ON CREATE SET s.version = 0
WITH c, s, s.version AS from
WHERE from < $version
SET s.version = $version, s.migratedAt = $now, c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'schema.migrated', at: $now, actor: 'baton', subject: 'graph',
                 payload: '{"from":' + toString(from) + ',"to":' + toString($version) + '}'})
CREATE (e)-[:ON]->(s)
RETURN s.version AS version
