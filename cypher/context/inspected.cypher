// An auditor (or admin) read the context *as* another agent would see it: audited as the
// inspector's own act (actor = the real caller, subject = the agent inspected), never as a
// decision of the inspected agent. The payload names what was asked and the facts shown.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (a:Agent {id: coalesce($agentId, '')})
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'context.inspected', at: $now, actor: $actor,
                 subject: $agentId, payload: $payload})
FOREACH (x IN CASE WHEN a IS NULL THEN [] ELSE [a] END | CREATE (e)-[:ON]->(x))
RETURN e.seq AS seq
