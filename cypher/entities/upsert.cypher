// Create or update org entities in a batch ($rows: [{id, kind, name, domain, attrs, text}]),
// each IN_DOMAIN its domain; idempotent. Moving an existing entity to another domain changes who
// may read and write its facts, so only a caller with $mayMove (admin, operator) may, and
// each move is audited as `entity.moved` with the old and the new domain.
// `text` (app.core.search.entity_text) is what search indexes; a new or changed one is flagged
// needsEmbedding for the embedding job (search/pending).
// No row back (nothing written) when a domain is unknown, or the batch would move an entity
// and the caller may not (the caller tells which).
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (d:Domain)
WHERE d.id IN $domains
WITH c, count(d) AS known
WHERE known = size($domains)
// Each row's entity by its id (an index lookup; `x.id IN [r IN $rows | r.id]` scanned every
// Entity on FalkorDB); an empty batch still gives the row that goes on.
UNWIND CASE WHEN size($rows) = 0 THEN [null] ELSE $rows END AS row
OPTIONAL MATCH (x:Entity {id: coalesce(row.id, '')})-[:IN_DOMAIN]->(xd:Domain)
WITH c, collect({id: x.id, was: xd.id}) AS current
WITH c, [m IN current WHERE m.id IS NOT NULL |
         {id: m.id, was: m.was, goes: head([r IN $rows WHERE r.id = m.id | r.domain])}] AS held
WITH c, [m IN held WHERE m.goes <> m.was] AS moves
WHERE $mayMove OR size(moves) = 0
WITH c, moves, c.seq AS base
SET c.seq = base + size(moves)
FOREACH (i IN range(0, size(moves) - 1) |
  CREATE (:Event {seq: base + i + 1, type: 'entity.moved', at: $now, actor: $actor,
                  subject: moves[i].id,
                  payload: '{"entityId":"' + moves[i].id + '","from":"' + moves[i].was +
                           '","to":"' + moves[i].goes + '"}'}))
WITH c
UNWIND $rows AS r
MATCH (d:Domain {id: r.domain})
MERGE (e:Entity {id: r.id})
ON CREATE SET e.createdAt = $now
SET e.needsEmbedding = CASE WHEN e.text = r.text THEN e.needsEmbedding ELSE true END
SET e.kind = r.kind, e.name = r.name, e.attrs = r.attrs, e.text = r.text, e.updatedAt = $now
WITH c, e, d
OPTIONAL MATCH (e)-[old:IN_DOMAIN]->(other:Domain)
WHERE other.id <> d.id
DELETE old
WITH DISTINCT c, e, d
MERGE (e)-[:IN_DOMAIN]->(d)
WITH c, count(DISTINCT e) AS n
SET c.seq = c.seq + 1
CREATE (:Event {seq: c.seq, type: 'entity.upserted', at: $now, actor: $actor, subject: null,
                payload: '{"count":' + toString(n) + '}'})
RETURN n AS upserted
