// One task's own properties (no history): what a pushed assignment carries.
MATCH (t:Task {id: coalesce($id, '')})
RETURN properties(t) AS task
