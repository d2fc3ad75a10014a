// Legal holds, newest first; $active: only those in force at $now.
MATCH (h:LegalHold)
WHERE NOT $active OR (h.releasedAt IS NULL AND (h.until IS NULL OR h.until > $now))
RETURN properties(h) AS hold
ORDER BY h.placedAt DESC, h.id
LIMIT $limit
