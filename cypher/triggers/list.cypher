// Enabled triggers, for the trigger job.
MATCH (tr:Trigger)
WHERE tr.enabled = true
RETURN properties(tr) AS trigger
ORDER BY tr.id
