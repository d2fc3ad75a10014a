// Why was this done: from an outcome (the remediation task of an incident run) back through
// its step, the steps before it, the human approval, the merge of contradictory findings,
// the facts and the agents that asserted them, to the alert that triggered the run.
// :param id => 'task_…'   (the remediate step's task; `whyDid(id:)` over GraphQL gives the same)
MATCH (x {id: $id})
MATCH path = (x)-[:FOR_STEP|AFTER|ASKED|MERGED|CHOSE|CONSIDERED|DERIVED_FROM|PART_OF|TRIGGERED_BY|RAN|ASSERTED_BY|CONTRADICTS*1..8]->()
RETURN path
// Bounded: a dense DERIVED_FROM graph has exponentially many paths (docs/reliability.md).
LIMIT 300
