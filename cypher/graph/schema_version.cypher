// The graph model's recorded version (null: no record: a graph from before versions were
// recorded, which is version 1, or a new graph, which has no event counter yet either).
OPTIONAL MATCH (s:Schema {id: 'graph'})
WITH max(s.version) AS version
OPTIONAL MATCH (c:Counter {name: 'event'})
RETURN version, count(c) AS counters
