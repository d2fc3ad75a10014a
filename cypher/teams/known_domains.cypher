// Which of $ids are domains (to name the unknown ones in an error).
MATCH (d:Domain)
WHERE d.id IN $ids
RETURN collect(d.id) AS known
