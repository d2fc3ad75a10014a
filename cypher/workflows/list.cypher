// The latest version of every workflow, with its enabled triggers and how many runs it has.
MATCH (w:Workflow)
WHERE w.latest = true
OPTIONAL MATCH (tr:Trigger {workflow: w.name})
WHERE tr.enabled = true
WITH w, collect(tr.event) AS triggers
OPTIONAL MATCH (r:Run {workflow: w.name})
WITH w, triggers, count(r) AS runs
RETURN properties(w) AS workflow, triggers, runs
ORDER BY w.name
