// Relate entities in a batch ($rows: [{from, to, type}], type one of DEPENDS_ON, PART_OF,
// OWNED_BY, RELATES_TO); idempotent (MERGE). No row back when an endpoint is unknown.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (x:Entity)
WHERE x.id IN $ids
WITH c, count(x) AS known
WHERE known = size($ids)
UNWIND $rows AS r
MATCH (a:Entity {id: r.from}), (b:Entity {id: r.to})
FOREACH (_ IN CASE WHEN r.type = 'DEPENDS_ON' THEN [1] ELSE [] END |
  MERGE (a)-[:DEPENDS_ON]->(b))
FOREACH (_ IN CASE WHEN r.type = 'PART_OF' THEN [1] ELSE [] END | MERGE (a)-[:PART_OF]->(b))
FOREACH (_ IN CASE WHEN r.type = 'OWNED_BY' THEN [1] ELSE [] END | MERGE (a)-[:OWNED_BY]->(b))
FOREACH (_ IN CASE WHEN r.type = 'RELATES_TO' THEN [1] ELSE [] END |
  MERGE (a)-[:RELATES_TO]->(b))
WITH c, count(*) AS n
SET c.seq = c.seq + 1
CREATE (:Event {seq: c.seq, type: 'entity.linked', at: $now, actor: $actor, subject: null,
                payload: '{"count":' + toString(n) + '}'})
RETURN n AS linked
