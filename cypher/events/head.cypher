// The newest event sequence number (0 before any event).
MATCH (c:Counter {name: 'event'})
RETURN c.seq AS seq
