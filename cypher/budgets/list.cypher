// Budgets by id, with what is spent in the current period.
MATCH (b:Budget)
WHERE b.id + '' > $after
RETURN properties(b) AS budget
ORDER BY b.id
LIMIT $limit
