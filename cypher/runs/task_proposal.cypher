// The proposal already standing on a task (a human checkpoint made before a crash).
MATCH (p:Proposal)-[:FOR]->(:Task {id: $taskId})
RETURN p.id AS id
ORDER BY p.createdAt DESC
LIMIT 1
