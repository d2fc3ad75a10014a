// Tasks (each is its own span) that ended in (after, until], for the OpenTelemetry export.
MATCH (t:Task)
WHERE t.endedAt > $after AND t.endedAt <= $until AND t.spanId IS NOT NULL
RETURN properties(t) AS span, 'task' AS kind
ORDER BY t.endedAt
LIMIT $limit
