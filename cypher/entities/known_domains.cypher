// How many of $domains exist (why an upsert wrote nothing).
OPTIONAL MATCH (d:Domain)
WHERE d.id IN $domains
RETURN count(d) AS n
