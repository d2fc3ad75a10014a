// Current policies with their targets, by id.
MATCH (p:Policy)
WHERE p.id + '' > $after
RETURN properties(p) AS policy
ORDER BY p.id
LIMIT $limit
