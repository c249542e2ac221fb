-- The deadline projection (issue 13): one row per deadline a command opened, written in the same
-- transaction as the command that opens or closes it (`db::repo::write_projections`) and rebuilt by
-- `samverkan reproject`. `track` is the CPUA whose track it is. `first_reminder_on` is the day its
-- first reminder falls on; the scheduler reads only open rows whose first reminder is on or before
-- today, through `deadlines_open_reminder`, instead of every released review forever. A deadline that
-- closes keeps its row with `closed_at` while the case is open; a closed case's rows and a key-file
-- deadline whose deletion is recorded leave the table.
CREATE TABLE deadlines (
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    -- release_decision | key_file_deletion | usage_period_end | disposal_confirmation
    code TEXT NOT NULL,
    track TEXT NOT NULL,
    due_on DATE NOT NULL,
    first_reminder_on DATE NOT NULL,
    closed_at TIMESTAMP,
    PRIMARY KEY (collaboration_id, code, track)
);
CREATE INDEX deadlines_open_reminder ON deadlines (first_reminder_on, collaboration_id)
    WHERE closed_at IS NULL;
-- Open release decisions from the review projection; the other deadlines need the stored state:
-- `samverkan reproject` after the upgrade writes them.
INSERT INTO deadlines (collaboration_id, code, track, due_on, first_reminder_on)
SELECT r.collaboration_id, 'release_decision', r.cpua_id, r.decision_due_on, date(r.decision_due_on, '-7 days')
  FROM cpua_reviews r JOIN collaborations c ON c.id = r.collaboration_id
 WHERE r.status = 'under_review' AND r.decision_due_on IS NOT NULL
   AND c.step NOT IN ('refused', 'withdrawn', 'closed');
