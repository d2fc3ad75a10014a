// The event sequence counter: created once, then only ever incremented inside the
// statement that writes each Event, so seq is monotonic across app replicas.
MERGE (c:Counter {name: 'event'})
ON CREATE SET c.seq = 0
RETURN c.seq AS seq
