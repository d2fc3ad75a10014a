// Sync: a batch of entities that left a source ($rows: {id, payload}). Nothing is deleted:
// the claim is retired, the source's relations from the entity become RETIRED edges and the
// memberships it made go (they grant reads: the user's readDomains / readLabels are recomputed); the entity itself is retired when no other
// source still fully claims it (entity.retired), else it stays (entity.unclaimed) — and if
// this source owned its properties, the others' claims forget their hash so their next sync
// writes them. One Event per entity; a claim already retired writes nothing.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (s:Source {id: coalesce($source, '')})
UNWIND $rows AS r
MATCH (e:Entity {id: r.id})
WITH c, s, r, e
MATCH (e)-[cl:SOURCED_FROM]->(s)
WHERE cl.status = 'active'
WITH c, s, r, e, cl, cl.lostTo IS NULL AND NOT cl.partial AS won
SET cl.status = 'retired', cl.hash = null, cl.lostTo = null, cl.retiredAt = $now
WITH c, s, r, e, won
OPTIONAL MATCH (e)-[old:DEPENDS_ON|PART_OF|OWNED_BY|RELATES_TO|PROVIDES|CONSUMES|CHILD_OF]->(t:Entity)
WHERE old.source = s.id
WITH c, s, r, e, won, old, t, type(old) AS kind
FOREACH (_ IN CASE WHEN old IS NULL THEN [] ELSE [1] END |
  MERGE (e)-[x:RETIRED {type: kind, source: s.id}]->(t)
  SET x.status = 'retired', x.at = $now, x.rev = $rev
  DELETE old)
WITH DISTINCT c, s, r, e, won
OPTIONAL MATCH (p:Principal {id: e.id})-[m:MEMBER_OF]->(:Team)
WHERE m.source = s.id
DELETE m
WITH DISTINCT c, s, r, e, won, p AS reader
WITH c, s, r, e, won, reader, [(reader)-[:MEMBER_OF]->(:Team)-[:CAN_READ]->(gd:Domain) | gd.id] AS gds,
     [(reader)-[:MEMBER_OF]->(:Team)-[:CLEARED_FOR]->(gl:Label) | gl.name] AS gls
FOREACH (_ IN CASE WHEN reader IS NULL THEN [] ELSE [1] END |
  SET reader.readDomains = reduce(s = [], g IN gds | CASE WHEN g IN s THEN s ELSE s + g END),
      reader.readLabels = reduce(s = [], g IN gls | CASE WHEN g IN s THEN s ELSE s + g END))
WITH DISTINCT c, s, r, e, won
OPTIONAL MATCH (e)-[oc:SOURCED_FROM]->(os:Source)
WHERE oc.status = 'active'
WITH c, r, e, won, collect(oc) AS others, collect(os) AS sources
WITH c, r, e, won, others, sources, size([o IN others WHERE NOT o.partial]) = 0 AS gone
FOREACH (o IN CASE WHEN won THEN others ELSE [] END | SET o.hash = null, o.lostTo = null)
FOREACH (x IN CASE WHEN won THEN sources ELSE [] END | SET x.inputHash = null)
SET e.status = CASE WHEN gone THEN 'retired' ELSE e.status END,
    e.retiredAt = CASE WHEN gone THEN $now ELSE e.retiredAt END
WITH c, collect({id: e.id, payload: r.payload,
                 type: CASE WHEN gone THEN 'entity.retired' ELSE 'entity.unclaimed' END}) AS done
WITH c, done, c.seq AS base
SET c.seq = base + size(done)
FOREACH (i IN range(0, size(done) - 1) |
  CREATE (:Event {seq: base + i + 1, type: done[i].type, at: $now, actor: $actor,
                  subject: done[i].id, payload: done[i].payload}))
RETURN size(done) AS retired
