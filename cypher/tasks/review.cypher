// A supervisor reviews a finished sub-task of the task it holds: accept it, or send it back
// with feedback (queued again, its previous result kept, at most $maxRounds send-backs; the
// next agent to take it sees the feedback and the round). Under the lock, so two reviews of
// one result cannot both act.
// No row back: not a done sub-task of a task this agent holds, already accepted, or the
// rounds are used up (the caller reads which).
MATCH (c:Counter {name: 'event'})
SET c._lk = timestamp()
WITH c
MATCH (t:Task {id: coalesce($taskId, '')})-[:CHILD_OF]->(p:Task)
WHERE p.agentId = $agentId AND p.status IN ['assigned', 'running'] AND t.status = 'done'
  AND coalesce(t.review, '') <> 'accepted'
  AND ($accept OR coalesce(t.rounds, 0) < $maxRounds)
SET t.review = CASE WHEN $accept THEN 'accepted' ELSE 'sent_back' END,
    t.reviewedBy = $agentId, t.reviewedAt = $now,
    t.feedback = CASE WHEN $accept THEN coalesce($feedback, t.feedback) ELSE $feedback END,
    t.rounds = coalesce(t.rounds, 0) + CASE WHEN $accept THEN 0 ELSE 1 END,
    t.previousResult = CASE WHEN $accept THEN t.previousResult ELSE t.result END,
    t.status = CASE WHEN $accept THEN 'done' ELSE 'queued' END,
    t.qk = CASE WHEN $accept THEN null ELSE t.capability + '|' + toString(t.priority) END,
    t.maxAttempts = CASE WHEN $accept OR t.maxAttempts > t.attempts THEN t.maxAttempts
                         ELSE t.attempts + 1 END,
    t.agentId = CASE WHEN $accept THEN t.agentId ELSE null END,
    t.endedAt = CASE WHEN $accept THEN t.endedAt ELSE null END,
    t.notBefore = $now, t.queuedAt = CASE WHEN $accept THEN t.queuedAt ELSE $now END,
    t.updatedAt = $now
SET c.seq = c.seq + 1
CREATE (e:Event {seq: c.seq, type: CASE WHEN $accept THEN 'task.accepted' ELSE 'task.sent_back' END,
                 at: $now, actor: $actor, agentId: $agentId, subject: t.id,
                 payload: $eventPayload})
CREATE (e)-[:ON]->(t)
// The review is a decision of the supervisor's, in the sub-task's trace.
WITH t, p
MATCH (a:Agent {id: coalesce($agentId, '')})
CREATE (d:Decision {id: t.id + '/review/' + toString(t.rounds) + '/' + t.review,
                    spanId: t.id + '/review/' + toString(t.rounds) + '/' + t.review,
                    traceId: t.traceId, parentSpanId: t.spanId, name: 'review ' + t.review,
                    startedAt: $now, endedAt: $now, taskId: t.id, runId: t.runId,
                    agentId: a.id, attrs: $eventPayload})
CREATE (d)-[:BY]->(a)
CREATE (d)-[:ON]->(t)
RETURN properties(t) AS task
