// An integration's own event (deployment.created, alert.fired, ...): appended to the log.
MATCH (c:Counter {name: 'event'})
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: $type, at: $now, actor: $actor, subject: $subject,
                 payload: $payload})
RETURN e.seq AS seq, e.type AS type, e.at AS at, e.actor AS actor,
       e.subject AS subject, e.payload AS payload
