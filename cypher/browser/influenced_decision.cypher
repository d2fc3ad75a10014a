// Everything that influenced a fact, task or proposal: its upstream lineage, 5 steps deep.
// :param id => 'fact_…'
MATCH (x {id: $id})
MATCH path = (x)-[:DERIVED_FROM|SUPERSEDES|ASSERTED_BY|CHILD_OF|ASSIGNED_TO|FOR|PROPOSED_BY*1..5]->()
RETURN path
// Bounded: a dense DERIVED_FROM graph has exponentially many paths (docs/reliability.md).
LIMIT 300
