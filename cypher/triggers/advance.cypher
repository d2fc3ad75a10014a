// Move a log-tail cursor forward (never back): runs already started for events up to here;
// a crash before this line re-reads them and starting a run is idempotent.
// No work, no write: a cursor that does not move is not written (no row then).
MERGE (k:Cursor {name: $name})
ON CREATE SET k.seq = $seq, k.at = $now
WITH k
WHERE k.seq < $seq
SET k.seq = $seq, k.at = $now
RETURN k.seq AS seq
