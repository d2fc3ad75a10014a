// An agent reports spend on tasks it holds ($entries: [{key, taskId, fence, usd, tokensIn,
// tokensOut, model}]). Each entry becomes a CostEntry (idempotent on key, so a resent report
// counts once) and rolls up at once: the task, every ancestor task (treeCostUsd), the agent,
// the run and its parent runs. Budgets are charged from the entries by budgets/charge.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
UNWIND $entries AS x
MATCH (t:Task {id: x.taskId})
WHERE t.agentId = $agentId AND t.fence = x.fence
  AND t.status IN ['assigned', 'running', 'awaiting_approval']
OPTIONAL MATCH (dup:CostEntry {id: x.key})
WITH c, t, x
WHERE dup IS NULL
MATCH (a:Agent {id: coalesce($agentId, '')})
// $capped (the cost of a completion): an entry that would take the task over the agent's
// maxCostPerTask is not recorded (the completion is refused with it)
WHERE NOT $capped OR a.pMaxCost IS NULL OR t.costUsd + x.usd <= a.pMaxCost
OPTIONAL MATCH (:Run {id: t.runId})-[:INSTANCE_OF]->(w:Workflow)
CREATE (ce:CostEntry {id: x.key, usd: x.usd, tokensIn: x.tokensIn, tokensOut: x.tokensOut,
                      model: x.model, at: $now, taskId: t.id, agentId: a.id, team: a.team,
                      runId: t.runId, workflowId: w.id, charged: false})
CREATE (ce)-[:FOR]->(t)
SET t.costUsd = t.costUsd + x.usd, t.treeCostUsd = coalesce(t.treeCostUsd, 0.0) + x.usd,
    a.spentUsd = coalesce(a.spentUsd, 0.0) + x.usd
WITH c, t, x, ce
OPTIONAL MATCH (t)-[:CHILD_OF*1..32]->(anc:Task)
SET anc.treeCostUsd = coalesce(anc.treeCostUsd, 0.0) + x.usd
WITH DISTINCT c, t, x, ce
OPTIONAL MATCH (:Run {id: t.runId})-[:SUB_RUN_OF*0..16]->(run:Run)
SET run.spentUsd = coalesce(run.spentUsd, 0.0) + x.usd
WITH DISTINCT c, ce
WITH c, collect(ce) AS ces
WHERE size(ces) > 0
WITH c, ces, c.seq AS base
SET c.seq = base + size(ces)
WITH ces, base
UNWIND range(0, size(ces) - 1) AS i
WITH ces[i] AS ce, base + i + 1 AS seq
CREATE (e:Event {seq: seq, type: 'cost.reported', at: $now, actor: $actor, agentId: ce.agentId,
                 subject: ce.taskId,
                 payload: '{"agentId":"' + ce.agentId + '","usd":' + toString(ce.usd) + '}'})
CREATE (e)-[:ON]->(ce)
WITH ce
MATCH (t:Task {id: ce.taskId}), (a:Agent {id: ce.agentId})
RETURN ce.id AS id, t.id AS taskId, t.costUsd AS taskCost, a.pMaxCost AS maxCost
