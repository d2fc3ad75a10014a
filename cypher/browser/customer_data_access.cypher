// Who may touch customer data, and through which policy: agents whose team can act on the
// customers domain, and the policies that apply to them.
MATCH (a:Agent)-[:MEMBER_OF]->(t:Team)-[:CAN_ACT|CAN_READ]->(d:Domain {id: 'customers'})
OPTIONAL MATCH (p:Policy)-[:APPLIES_TO]->(a)
OPTIONAL MATCH (tp:Policy)-[:APPLIES_TO]->(t)
RETURN a.id AS agent, t.id AS team, collect(DISTINCT p.id) + collect(DISTINCT tp.id) AS policies
