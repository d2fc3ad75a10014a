// The event sequence counter: created once, then only ever incremented inside the
// statement that writes each Event, so seq is monotonic across app replicas. `key` carries
// the uniqueness constraint on Neo4j (cypher/schema/neo4j.cypher): two replicas starting at
// once cannot both create a counter. Also the server's run-id secret (made once, random,
// kept in the graph so every replica and every restart derive the same trigger run ids,
// which no client can predict).
MERGE (c:Counter {name: 'event'})
ON CREATE SET c.seq = 0
SET c.key = 'event'
MERGE (k:Secret {name: 'run-ids'})
ON CREATE SET k.value = $secret
RETURN c.seq AS seq
