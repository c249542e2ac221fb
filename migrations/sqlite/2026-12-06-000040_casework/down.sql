DROP TABLE case_files;
DROP TABLE consultations;
DROP TABLE completion_requests;
