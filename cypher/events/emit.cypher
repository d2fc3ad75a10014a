// An integration's own event (deployment.created, alert.fired, ...): appended to the log.
// With a $key (the sender's delivery id) it is idempotent: a re-delivery of the same
// (type, key) appends nothing and returns the first event, so triggers fire once.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (old:Event {key: coalesce($key, '')})
WHERE $key IS NOT NULL AND old.type = $type
WITH c, old
ORDER BY old.seq
LIMIT 1
FOREACH (_ IN CASE WHEN old IS NULL THEN [1] ELSE [] END |
  SET c.seq = c.seq + 1
  CREATE (:Event {seq: c.seq, type: $type, at: $now, actor: $actor, subject: $subject,
                  payload: $payload, key: $key}))
WITH c, old
OPTIONAL MATCH (new:Event {seq: c.seq})
WITH coalesce(old, new) AS e, old IS NOT NULL AS duplicate
RETURN e.seq AS seq, e.type AS type, e.at AS at, e.actor AS actor,
       e.subject AS subject, e.payload AS payload, duplicate
