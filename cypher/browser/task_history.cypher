// A task's attempts: every agent it was assigned to, with fencing tokens and outcomes.
// :param id => 'task_…'
MATCH (t:Task {id: $id})-[r:ASSIGNED_TO]->(a:Agent)
RETURN t.id AS task, r.attempt AS attempt, r.fence AS fence, a.id AS agent, r.via AS via,
       r.outcome AS outcome, r.at AS at, r.endedAt AS endedAt
ORDER BY attempt
