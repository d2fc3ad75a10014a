// Events after a cursor, oldest first: replay for subscriptions and pull-style integrations.
MATCH (e:Event)
WHERE e.seq > $after AND ($types IS NULL OR e.type IN $types)
RETURN e.seq AS seq, e.type AS type, e.at AS at, e.actor AS actor,
       e.subject AS subject, e.payload AS payload, e.recipients AS recipients, e.key AS key,
       e.agentId AS agentId
ORDER BY seq
LIMIT $limit
