// Everything that influenced a fact, task or proposal: its upstream lineage, 5 steps deep.
// :param id => 'fact_…'
// One index seek per label (a label-less {id: $id} match would scan every node).
CALL {
  MATCH (x:Fact {id: $id}) RETURN x
  UNION
  MATCH (x:Task {id: $id}) RETURN x
  UNION
  MATCH (x:Proposal {id: $id}) RETURN x
}
MATCH path = (x)-[:DERIVED_FROM|SUPERSEDES|ASSERTED_BY|CHILD_OF|ASSIGNED_TO|FOR|PROPOSED_BY*1..5]->()
RETURN path
// Bounded: paths multiply with fan-in (a dense DERIVED_FROM graph has exponentially many;
// docs/reliability.md): show the first 500.
LIMIT 500
