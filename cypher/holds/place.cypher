// A legal hold: while it lasts (until $until, or until released; $until null: open-ended)
// retention keeps the node it is ON and what hangs off it (README "Operating Baton"): an
// Entity (its facts, the tasks that touch it and their events), a Run (its tasks, spans and
// events), a Task, an Agent (its tasks, facts and spans) or a Fact. The hold id is the
// engine's ($id). No row back: no node of those kinds has the id $targetId.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (en:Entity {id: coalesce($targetId, '')})
OPTIONAL MATCH (ru:Run {id: coalesce($targetId, '')})
OPTIONAL MATCH (ta:Task {id: coalesce($targetId, '')})
OPTIONAL MATCH (ag:Agent {id: coalesce($targetId, '')})
OPTIONAL MATCH (fa:Fact {id: coalesce($targetId, '')})
WITH c, coalesce(en, ru, ta, ag, fa) AS x
WHERE x IS NOT NULL
CREATE (h:LegalHold {id: $id, targetId: $targetId, targetKind: labels(x)[0], reason: $reason,
                     until: $until, placedBy: $actor, placedAt: $now})
CREATE (h)-[:ON]->(x)
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'legal_hold.placed', at: $now, actor: $actor,
                 subject: h.id, payload: $payload})
CREATE (e)-[:ON]->(h)
RETURN properties(h) AS hold
