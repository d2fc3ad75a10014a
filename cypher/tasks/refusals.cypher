// Why completions by $agentId wrote nothing although each item ($items: [{taskId, fence,
// costKey}]) is still this agent's, under its current fencing token and still working: a
// policy guard refused it. Per such item: its capability, its recorded cost, the agent's
// maxCostPerTask and whether the item's own cost entry is recorded already. A stale token or
// a task that is no longer the agent's is not a violation (no row).
UNWIND $items AS it
MATCH (t:Task {id: it.taskId})
WHERE t.agentId = $agentId AND t.fence = it.fence
  AND t.status IN ['assigned', 'running', 'awaiting_approval']
OPTIONAL MATCH (a:Agent {id: coalesce($agentId, '')})
OPTIONAL MATCH (ce:CostEntry {id: it.costKey})
RETURN t.id AS id, t.capability AS capability, t.costUsd AS cost, a.pMaxCost AS cap,
       ce IS NOT NULL AS recorded
