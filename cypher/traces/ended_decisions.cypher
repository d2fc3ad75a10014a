// Decision spans that ended in (after, until], for the OpenTelemetry export job.
MATCH (d:Decision)
WHERE d.endedAt > $after AND d.endedAt <= $until
RETURN properties(d) AS span, 'decision' AS kind
ORDER BY d.endedAt
LIMIT $limit
