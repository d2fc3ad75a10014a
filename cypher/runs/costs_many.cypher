// What each of several runs cost ($ids, distinct run ids), as runs/cost answers for one: the
// spend of every task in it (sub-tasks inherit the run). One row per run id, 0 for a run
// with no tasks. The batched read behind RunType.costUsd (one round trip per page of runs).
UNWIND coalesce($ids, []) AS id
OPTIONAL MATCH (t:Task {runId: id})
RETURN id, sum(t.costUsd) AS cost
