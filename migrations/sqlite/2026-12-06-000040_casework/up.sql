-- Case handling (issue 16, items 2-5): completion requests, consultations, and each CPUA's case file
-- of a collaboration (its own case number, diarienummer, and the handling lawyer).

-- A completion request (komplettering) of one CPUA's track. The items asked for and the answers are
-- JSON lists; the snapshots are the application's fields at the request and at the resubmission, so
-- the field diff can be shown years later.
CREATE TABLE completion_requests (
    id TEXT PRIMARY KEY NOT NULL,
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    cpua_id TEXT NOT NULL,
    items TEXT NOT NULL,
    due_on DATE NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    snapshot TEXT NOT NULL,
    answers TEXT,
    answered_by TEXT,
    answered_at TIMESTAMP,
    resubmitted_snapshot TEXT
);
CREATE INDEX completion_requests_case ON completion_requests (collaboration_id, requested_at);

-- A consultation (remiss) of CPUA legal: the register holder, the DPO or a linkage authority.
CREATE TABLE consultations (
    id TEXT PRIMARY KEY NOT NULL,
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    cpua_id TEXT NOT NULL,
    -- register_holder | dpo | linkage_authority
    addressee_kind TEXT NOT NULL,
    -- an organisation and role with accounts, or a named e-mail address for an external authority
    addressee_org TEXT,
    addressee_role TEXT,
    addressee_email TEXT,
    addressee_name TEXT,
    question TEXT NOT NULL,
    due_on DATE NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL,
    answer TEXT,
    answered_on DATE,
    answered_by TEXT,
    recorded_at TIMESTAMP
);
CREATE INDEX consultations_case ON consultations (collaboration_id, requested_at);
-- The reminder scan and the to-do list: open consultations by due day.
CREATE INDEX consultations_open ON consultations (due_on) WHERE answer IS NULL;
CREATE INDEX consultations_addressee ON consultations (addressee_org, addressee_role) WHERE answer IS NULL;

-- Each CPUA's own case file of a collaboration: its case number and its handling lawyer.
CREATE TABLE case_files (
    collaboration_id TEXT NOT NULL REFERENCES collaborations (id),
    cpua_id TEXT NOT NULL,
    case_number TEXT,
    assignee TEXT,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (collaboration_id, cpua_id)
);
-- `case_number=` in the list: exact match.
CREATE INDEX case_files_case_number ON case_files (case_number, collaboration_id);
-- `assigned=mine` in the list and the to-do list.
CREATE INDEX case_files_assignee ON case_files (assignee, collaboration_id);
