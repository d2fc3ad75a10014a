// The audit view of the log: filter by actor (the principal who acted), agent (the agent it
// acted as), subject, type and time, cursor on seq.
MATCH (e:Event)
WHERE e.seq > $after
  AND ($types IS NULL OR e.type IN $types)
  AND ($actor IS NULL OR e.actor = $actor)
  AND ($agent IS NULL OR e.agentId = $agent)
  AND ($subject IS NULL OR e.subject = $subject)
  AND ($since IS NULL OR e.at >= $since)
  AND ($until IS NULL OR e.at < $until)
RETURN e.seq AS seq, e.type AS type, e.at AS at, e.actor AS actor,
       e.subject AS subject, e.payload AS payload, e.agentId AS agentId
ORDER BY seq
LIMIT $limit
