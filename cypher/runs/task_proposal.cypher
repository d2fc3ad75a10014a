// The proposal the engine itself already made on a task (a human checkpoint made before a
// crash). Never one a client made: only proposals with `engine: true` are adopted.
MATCH (p:Proposal)-[:FOR]->(:Task {id: coalesce($taskId, '')})
WHERE p.engine = true
RETURN p.id AS id
ORDER BY p.createdAt DESC
LIMIT 1
