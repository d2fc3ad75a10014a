// Why was this done: from an outcome (the remediation task of an incident run) back through
// its step, the steps before it, the human approval, the merge of contradictory findings,
// the facts and the agents that asserted them, to the alert that triggered the run.
// :param id => 'task_…'   (the remediate step's task; `whyDid(id:)` over GraphQL gives the same)
// One index seek per label (a label-less {id: $id} match would scan every node).
CALL {
  MATCH (x:Task {id: $id}) RETURN x
  UNION
  MATCH (x:Fact {id: $id}) RETURN x
  UNION
  MATCH (x:Proposal {id: $id}) RETURN x
  UNION
  MATCH (x:Run {id: $id}) RETURN x
}
MATCH path = (x)-[:FOR_STEP|AFTER|ASKED|MERGED|CHOSE|CONSIDERED|DERIVED_FROM|PART_OF|TRIGGERED_BY|RAN|ASSERTED_BY|CONTRADICTS*1..8]->()
RETURN path
// Bounded: paths multiply with fan-in (a dense DERIVED_FROM graph has exponentially many;
// docs/reliability.md): show the first 500.
LIMIT 500
