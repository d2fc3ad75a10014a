// One task's own properties (no history): what a pushed assignment carries.
MATCH (t:Task {id: $id})
RETURN properties(t) AS task
