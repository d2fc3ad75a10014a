// Who a task belongs to (its current agent), to decide whether a read may be attached to it:
// only the task's own agent attaches its context reads to the task (and its trace).
MATCH (t:Task {id: coalesce($taskId, '')})
RETURN t.agentId AS agentId
