// Why a completion was refused: the task's recorded cost, the agent's maxCostPerTask, and
// whether this completion's own cost entry ($costKey) is already recorded.
MATCH (t:Task {id: $taskId})
OPTIONAL MATCH (a:Agent {id: $agentId})
OPTIONAL MATCH (ce:CostEntry {id: $costKey})
RETURN t.costUsd AS cost, a.pMaxCost AS cap, ce IS NOT NULL AS recorded
