// Why costs/report recorded nothing for one entry (read after the write, to answer with a
// coded error): the task, who holds it under which token, and whether the key was recorded.
OPTIONAL MATCH (t:Task {id: coalesce($taskId, '')})
OPTIONAL MATCH (dup:CostEntry {id: coalesce($key, '')})
RETURN t IS NOT NULL AS found, t.agentId AS agentId, t.fence AS fence, t.status AS status,
       dup.taskId AS recordedFor
