// What a run cost: the spend of every task in it (sub-tasks inherit the run).
MATCH (t:Task {runId: coalesce($runId, '')})
RETURN sum(t.costUsd) AS cost
