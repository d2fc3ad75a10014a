// An agent proposes an action for a task it holds (current fencing token). Auto-execution
// was decided by the caller from policy data ($auto, with the $threshold and $policyId that
// allowed it, recorded on the proposal). Otherwise the proposal is `pending`, the task
// waits in `awaiting_approval` (no lease runs out while humans think) and the proposal is
// ROUTED_TO the first level of its approval chain ($principals, members of $teams).
// The Event lists the humans it went to, for their inboxUpdates.
// $engine: a workflow checkpoint the engine makes on its own task (`engine: true`); only
// such proposals carry `engine: true`, the only ones the engine adopts (runs/task_proposal).
// No row back: the task is not held under that token, or a fact id is unknown.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (t:Task {id: coalesce($taskId, '')})
WHERE t.agentId = $agentId AND t.fence = $fence AND t.status IN ['assigned', 'running']
  AND (NOT $engine OR t.engine = true)
MATCH (a:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (f:Fact)
WHERE f.id IN $factIds
WITH c, t, a, collect(f) AS facts
WHERE size(facts) = size($factIds)
CREATE (p:Proposal {id: $id, kind: $kind, summary: $summary, payload: $payload,
                    confidence: $confidence, rationale: $rationale,
                    status: CASE WHEN $auto THEN 'auto_executed' ELSE 'pending' END,
                    threshold: $threshold, policyId: $policyId, createdAt: $now, level: 0,
                    chain: $chain, slaMs: $slaMs, onExpiry: $onExpiry,
                    escalateAt: CASE WHEN $auto OR $slaMs IS NULL THEN null
                                     ELSE $now + $slaMs END,
                    priority: t.priority, deadline: t.deadline, agentId: a.id, taskId: t.id,
                    fence: t.fence, factIds: $factIds, engine: $engine})
CREATE (p)-[:PROPOSED_BY]->(a)
CREATE (p)-[:FOR]->(t)
FOREACH (x IN facts | CREATE (p)-[:BASED_ON]->(x))
SET t.status = CASE WHEN $auto THEN t.status ELSE 'awaiting_approval' END, t.updatedAt = $now
WITH c, p
OPTIONAL MATCH (h:Principal)
WHERE NOT $auto AND h.id IN $principals
WITH c, p, collect(h) AS named
OPTIONAL MATCH (m:Principal)-[:MEMBER_OF]->(tm:Team)
WHERE NOT $auto AND tm.id IN $teams
WITH c, p, named, collect(m) AS members
WITH c, p, named + members AS humans
FOREACH (h IN humans | MERGE (p)-[:ROUTED_TO {level: 0}]->(h))
WITH c, p, [h IN humans | h.id] AS routed
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'proposal.' + p.status, at: $now, actor: $actor,
                 agentId: p.agentId, subject: p.id, payload: $eventPayload,
                 recipients: routed})
CREATE (e)-[:ON]->(p)
WITH p, routed
MATCH (t:Task {id: p.taskId})
MATCH (a:Agent {id: p.agentId})
OPTIONAL MATCH (t)-[:PART_OF]->(inRun:Run)
CREATE (d:Decision {id: p.id + '/propose', spanId: p.id + '/propose', traceId: t.traceId,
                    parentSpanId: t.spanId, name: 'propose ' + p.kind, startedAt: $now,
                    endedAt: $now, taskId: t.id, runId: t.runId, agentId: a.id,
                    attrs: '{"status":"' + p.status + '"}'})
CREATE (d)-[:BY]->(a)
CREATE (d)-[:ON]->(t)
CREATE (d)-[:PRODUCED]->(p)
FOREACH (x IN CASE WHEN inRun IS NULL THEN [] ELSE [inRun] END | CREATE (d)-[:IN]->(x))
RETURN properties(p) AS proposal, routed
