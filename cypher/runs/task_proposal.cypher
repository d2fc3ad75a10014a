// The proposal the engine itself already made on a task (a human checkpoint made before a
// crash). Never one a client made: only proposals with `engine: true` are adopted.
// From the task (an index lookup), not from every Proposal.
MATCH (t:Task {id: coalesce($taskId, '')})
WITH t
MATCH (p:Proposal)-[:FOR]->(t)
WHERE p.engine = true
RETURN p.id AS id
ORDER BY p.createdAt DESC
LIMIT 1
