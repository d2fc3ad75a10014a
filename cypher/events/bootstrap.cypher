// The event sequence counter: created once, then only ever incremented inside the
// statement that writes each Event, so seq is monotonic across app replicas. `key` carries
// the uniqueness constraint on Neo4j (see cypher/schema/neo4j.cypher): two replicas starting
// at once cannot both create a counter.
MERGE (c:Counter {name: 'event'})
ON CREATE SET c.seq = 0
SET c.key = 'event'
RETURN c.seq AS seq
