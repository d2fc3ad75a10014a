// The unfinished tasks of a run (steps' tasks and the sub-tasks supervisors made).
MATCH (t:Task {runId: coalesce($runId, '')})
WHERE NOT t.status IN ['done', 'failed', 'dead', 'cancelled', 'merged']
RETURN t.id AS id
