// Who was shown a fact (decision spans that SAW it) and who was pushed it (fact events).
// :param id => 'fact_…'
MATCH (f:Fact {id: $id})
OPTIONAL MATCH (d:Decision)-[:SAW]->(f)
OPTIONAL MATCH (e:Event {type: 'fact.asserted'})-[:ON]->(f)
RETURN f, collect(DISTINCT d) AS spans, e.recipients AS pushedTo
