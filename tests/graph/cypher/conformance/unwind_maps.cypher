// Conformance: a list of maps with nested lists and maps as one parameter.
UNWIND $rows AS r
CREATE (n:Probe {id: r.id, tags: r.tags, score: r.meta.score})
WITH n, r
UNWIND r.children AS ch
CREATE (n)-[:HAS {w: ch.w}]->(:Probe {id: ch.id})
RETURN count(*) AS edges
