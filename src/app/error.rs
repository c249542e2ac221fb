//! The application's error, mapped once to RFC 9457 problem+json at the HTTP edge.
use crate::domain::lifecycle::Refusal;
use crate::domain::messages::Message;

/// One invalid input field: the field, the rule and the catalogue message with its parameters. The
/// text is rendered at the edge in the request's language (`http::problem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    /// The stable rule code, e.g. `max_length`.
    pub rule: &'static str,
    pub message: Message,
    /// The lifecycle step (1–9) where a missing item is entered, when that is the fault.
    pub step: Option<u8>,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: Message) -> Self {
        FieldError {
            field: field.into(),
            rule: message.rule(),
            message,
            step: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("authentication required: {0}")]
    Unauthenticated(Message),
    #[error("{0}")]
    Forbidden(Message),
    #[error("{} not found", .0.id())]
    NotFound(Message),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("{}", .0.message)]
    Refused(Box<Refusal>),
    #[error("{0}")]
    Conflict(Message),
    /// A concurrent writer got there first (an optimistic version check or a unique number lost the
    /// race); nothing was written. Answered 409; a caller who sent no precondition is retried inside the
    /// server ([`super::Services::write_retrying`]).
    #[error("{0}")]
    RaceLost(Message),
    /// The route exists but not with this method (HTTP 405).
    #[error("{0}")]
    MethodNotAllowed(Message),
    /// The client's `If-Match` names a version that is no longer current (HTTP 412).
    #[error("{0}")]
    PreconditionFailed(Message),
    /// Too many requests from one client; retry after the given number of seconds (HTTP 429).
    #[error("{message}")]
    TooManyRequests {
        message: Message,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    PayloadTooLarge(Message),
    #[error("{0}")]
    UnsupportedMediaType(Message),
    #[error("{0}")]
    BadRequest(Message),
    /// A query parameter that cannot be used as sent, e.g. a changed cursor (HTTP 400, naming it).
    #[error("bad parameter {}", .0.field)]
    BadParameter(FieldError),
    /// Every place for a list query is taken; retry in a second (HTTP 503 with Retry-After).
    #[error("{max} lists are running")]
    ListsBusy { max: usize },
    #[error("service unavailable: {0}")]
    Unavailable(Message),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
    /// The resource existed and was removed on purpose, e.g. a redacted document (HTTP 410); the
    /// message names what removed it.
    #[error("{0}")]
    Gone(Message),
    /// A service this one depends on answered wrongly or not at all, e.g. the S3 document store
    /// refused the credentials or returned changed bytes (HTTP 502); nothing was written.
    #[error("upstream: {0}")]
    Upstream(Message),
}

impl AppError {
    pub fn invalid(field: &str, message: Message) -> AppError {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound(crate::msg!("thing.record")),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                // The constraint name is for the log, never for the client.
                tracing::warn!(constraint = ?info.constraint_name(), detail = %info.message(), "unique violation");
                AppError::RaceLost(crate::msg!("race_lost.same_moment"))
            }
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                AppError::RaceLost(crate::msg!("race_lost.concurrent"))
            }
            Error::DatabaseError(_, ref info)
                if info.message().contains("database is locked")
                    || info.message().contains("busy") =>
            {
                AppError::RaceLost(crate::msg!("race_lost.concurrent"))
            }
            other => AppError::Internal(anyhow::Error::new(other).context("database error")),
        }
    }
}

impl From<r2d2::Error> for AppError {
    fn from(e: r2d2::Error) -> Self {
        // The pool's reason is for the log; the client learns that the database does not answer.
        tracing::warn!(error = %e, "no database connection");
        AppError::Unavailable(crate::msg!("unavailable.database"))
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        AppError::Refused(Box::new(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Info;
    impl diesel::result::DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            "duplicate key value violates unique constraint \"agreement_versions_pkey\""
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            Some("agreement_versions")
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            Some("agreement_versions_pkey")
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    #[test]
    fn a_unique_violation_answers_in_our_words_without_the_constraint_name() {
        let e = AppError::from(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            Box::new(Info),
        ));
        let AppError::RaceLost(m) = e else {
            panic!("a lost race")
        };
        for lang in [crate::domain::lang::Lang::Sv, crate::domain::lang::Lang::En] {
            let m = m.render(lang);
            assert!(!m.contains("pkey") && !m.contains("constraint"), "{m}");
        }
        assert!(m
            .render(crate::domain::lang::Lang::En)
            .contains("try again"));
        assert!(m
            .render(crate::domain::lang::Lang::Sv)
            .contains("försök igen"));
    }
}
