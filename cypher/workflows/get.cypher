// One workflow definition: the latest version of $name, or exactly $version, with the same
// columns as workflows/list: the event types of its enabled triggers (only the latest
// version has any) and how many runs the workflow has (all versions).
MATCH (w:Workflow {name: coalesce($name, '')})
WHERE ($version IS NULL AND w.latest = true) OR w.version = $version
OPTIONAL MATCH (tr:Trigger {workflow: w.name})
WHERE tr.enabled = true AND w.latest = true
WITH w, collect(tr.event) AS triggers
OPTIONAL MATCH (r:Run {workflow: w.name})
WITH w, triggers, count(r) AS runs
RETURN properties(w) AS workflow, triggers, runs
