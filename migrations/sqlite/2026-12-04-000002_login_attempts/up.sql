-- Sign-ins under way through an OpenID provider (issue 11): what the callback needs to finish one,
-- kept in the database so any instance can take the callback. Single use (deleted when the callback
-- takes it) and short-lived (expires_at, ten minutes).
CREATE TABLE login_attempts (
    -- SHA-256 of the `state` sent to the provider
    state_hash TEXT PRIMARY KEY NOT NULL,
    provider TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    -- the same-origin path to return to
    next_path TEXT NOT NULL,
    -- a step-up: the token hash of the session whose authentication is renewed
    step_up_session TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX login_attempts_by_expiry ON login_attempts (expires_at);
