// Move the trigger job's cursor forward (never back): runs already started for events up
// to here; a crash before this line re-reads them and starting a run is idempotent.
MERGE (k:Cursor {name: $name})
ON CREATE SET k.seq = $seq
SET k.seq = CASE WHEN k.seq > $seq THEN k.seq ELSE $seq END, k.at = $now
RETURN k.seq AS seq
