// Sync, step 3 of 3, for a batch of a source's new or changed records ($rows: {id, hash,
// event, payload, keys, rels: [{type, to}]}): the entity's relations from this source become
// exactly `rels` — each edge records its source, revision and the source's precedence
// (`rank`); one this source no longer lists is retired: it becomes a RETIRED edge
// {type, source, status: 'retired'} so no walk of the org graph follows it, and turns back
// into its type if it reappears. Then the claim takes the record's hash, and each record whose
// hash changed writes one Event ($rows[i].event: entity.imported / updated / revived, or
// entity.claim_lost when a source of better precedence owns its properties). A row whose
// claim already has the hash (another sync got there first) writes nothing. Each claim is
// reached from its entity (the WITH): from the source, every row would walk all its claims.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (s:Source {id: coalesce($source, '')})
UNWIND $rows AS r
MATCH (e:Entity {id: r.id})
WITH c, s, r, e
MATCH (e)-[cl:SOURCED_FROM]->(s)
WHERE coalesce(cl.hash, '') <> r.hash
OPTIONAL MATCH (e)-[old:DEPENDS_ON|PART_OF|OWNED_BY|RELATES_TO|PROVIDES|CONSUMES|CHILD_OF]->(t:Entity)
WHERE old.source = s.id AND NOT (type(old) + '>' + t.id) IN r.keys
WITH c, s, r, e, cl, old, t, type(old) AS kind
FOREACH (_ IN CASE WHEN old IS NULL THEN [] ELSE [1] END |
  MERGE (e)-[x:RETIRED {type: kind, source: s.id}]->(t)
  SET x.status = 'retired', x.at = $now, x.rev = $rev
  DELETE old)
WITH DISTINCT c, s, r, e, cl
UNWIND CASE WHEN size(r.rels) = 0 THEN [null] ELSE r.rels END AS rel
OPTIONAL MATCH (m:Entity {id: coalesce(rel.to, '')})
OPTIONAL MATCH (e)-[back:RETIRED {type: coalesce(rel.type, ''), source: s.id}]->(m)
DELETE back
WITH c, s, r, e, cl, rel, m
FOREACH (_ IN CASE WHEN m IS NOT NULL AND rel.type = 'DEPENDS_ON' THEN [1] ELSE [] END |
  MERGE (e)-[y:DEPENDS_ON {source: s.id}]->(m) SET y.rev = $rev, y.rank = s.precedence)
FOREACH (_ IN CASE WHEN m IS NOT NULL AND rel.type = 'PART_OF' THEN [1] ELSE [] END |
  MERGE (e)-[y:PART_OF {source: s.id}]->(m) SET y.rev = $rev, y.rank = s.precedence)
FOREACH (_ IN CASE WHEN m IS NOT NULL AND rel.type = 'OWNED_BY' THEN [1] ELSE [] END |
  MERGE (e)-[y:OWNED_BY {source: s.id}]->(m) SET y.rev = $rev, y.rank = s.precedence)
FOREACH (_ IN CASE WHEN m IS NOT NULL AND rel.type = 'RELATES_TO' THEN [1] ELSE [] END |
  MERGE (e)-[y:RELATES_TO {source: s.id}]->(m) SET y.rev = $rev, y.rank = s.precedence)
FOREACH (_ IN CASE WHEN m IS NOT NULL AND rel.type = 'PROVIDES' THEN [1] ELSE [] END |
  MERGE (e)-[y:PROVIDES {source: s.id}]->(m) SET y.rev = $rev, y.rank = s.precedence)
FOREACH (_ IN CASE WHEN m IS NOT NULL AND rel.type = 'CONSUMES' THEN [1] ELSE [] END |
  MERGE (e)-[y:CONSUMES {source: s.id}]->(m) SET y.rev = $rev, y.rank = s.precedence)
FOREACH (_ IN CASE WHEN m IS NOT NULL AND rel.type = 'CHILD_OF' THEN [1] ELSE [] END |
  MERGE (e)-[y:CHILD_OF {source: s.id}]->(m) SET y.rev = $rev, y.rank = s.precedence)
WITH c, s, r, e, cl, count(*) AS _
SET cl.hash = r.hash, cl.rev = $rev
WITH c, collect({id: e.id, payload: r.payload,
                 type: CASE WHEN cl.lostTo IS NULL THEN r.event ELSE 'entity.claim_lost' END})
        AS done
WITH c, done, c.seq AS base
SET c.seq = base + size(done)
FOREACH (i IN range(0, size(done) - 1) |
  CREATE (:Event {seq: base + i + 1, type: done[i].type, at: $now, actor: $actor,
                  subject: done[i].id, payload: done[i].payload}))
RETURN size(done) AS changed
