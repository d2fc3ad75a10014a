// One proposal, with who it was routed and escalated to.
MATCH (p:Proposal {id: coalesce($id, '')})
OPTIONAL MATCH (p)-[r:ROUTED_TO|ESCALATED_TO]->(h:Principal)
RETURN properties(p) AS proposal, collect(DISTINCT h.id) AS routedTo
