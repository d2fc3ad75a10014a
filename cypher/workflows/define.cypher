// Store a new version of a workflow definition (validated by the app first). Optimistic:
// the caller read the latest version ($prevVersion, 0 for none) and the write happens only if
// that is still the latest, so two concurrent definitions cannot both become version N.
// The workflow's triggers are replaced: the old ones are disabled, the declared ones MERGEd
// by their stable id (name#index) and enabled. Events after this one can fire them.
// No row back: someone else defined a newer version meanwhile.
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
OPTIONAL MATCH (old:Workflow {name: coalesce($name, '')})
WHERE old.latest = true
WITH c, old
WHERE coalesce(old.version, 0) = $prevVersion
CREATE (w:Workflow {id: $name + '@' + toString($prevVersion + 1), name: $name,
                    version: $prevVersion + 1, latest: true, hash: $hash,
                    definition: $definition, description: $description, pattern: $pattern,
                    steps: $steps, createdAt: $now, createdBy: $actor})
FOREACH (_ IN CASE WHEN old IS NULL THEN [] ELSE [1] END |
  SET old.latest = false
  CREATE (w)-[:SUPERSEDES]->(old))
// The trigger job reads the log from here on (the first definition with triggers sets it).
MERGE (k:Cursor {name: 'triggers'})
ON CREATE SET k.seq = c.seq, k.at = $now
WITH c, w
OPTIONAL MATCH (tr:Trigger {workflow: coalesce($name, '')})
WITH c, w, collect(tr) AS olds
FOREACH (x IN olds | SET x.enabled = false)
FOREACH (t IN $triggers |
  MERGE (x:Trigger {id: t.id})
  SET x.workflow = $name, x.event = t.event, x.condition = t.condition, x.input = t.input,
      x.enabled = true, x.updatedAt = $now)
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: 'workflow.defined', at: $now, actor: $actor,
                 subject: w.id, payload: $eventPayload})
CREATE (e)-[:ON]->(w)
RETURN properties(w) AS workflow
