// Why a submit wrote nothing: the earlier task with this dedupKey (an idempotent retry),
// or which entities / parent are unknown.
OPTIONAL MATCH (same:Task {dedupKey: coalesce($dedupKey, '')})
WHERE $dedupKey IS NOT NULL AND same.status <> 'merged'
  AND coalesce(same.engine, false) = $engine AND ($engine OR same.submittedBy = $actor)
WITH same
ORDER BY same.createdAt DESC
LIMIT 1
OPTIONAL MATCH (x:Entity)
WHERE x.id IN $entities
WITH same, collect(x.id) AS known
OPTIONAL MATCH (p:Task {id: coalesce($parentId, '')})
RETURN properties(same) AS task, [i IN $entities WHERE NOT i IN known] AS missing,
       p IS NOT NULL OR $parentId IS NULL AS parentOk
