//! `AppError`: the one error type of the service layer, with the stable codes of SPEC 7.
//!
//! async-graphql turns any `Display` error into a GraphQL error through a blanket `From` that
//! drops extensions, so resolvers finish service calls with [`GqlResultExt::gql`], which puts
//! the code in `extensions.code`. Internal causes are logged here and never sent.

use async_graphql::ErrorExtensions;

/// Every code a client can see in `extensions.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    DependencyViolation,
    Conflict,
    PasswordChangeRequired,
    EmailValidationRequired,
    RateLimited,
    Internal,
    /// The GraphQL document does not parse. Raised by the GraphQL layer, never by a service.
    GraphqlParseFailed,
    /// The document does not fit the schema, or it is past a limit. GraphQL layer only.
    GraphqlValidationFailed,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::BadUserInput,
        ErrorCode::DependencyViolation,
        ErrorCode::Conflict,
        ErrorCode::PasswordChangeRequired,
        ErrorCode::EmailValidationRequired,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::GraphqlParseFailed,
        ErrorCode::GraphqlValidationFailed,
    ];

    /// The wire name. These strings are public API: never change one.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::DependencyViolation => "DEPENDENCY_VIOLATION",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::PasswordChangeRequired => "PASSWORD_CHANGE_REQUIRED",
            ErrorCode::EmailValidationRequired => "EMAIL_VALIDATION_REQUIRED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            ErrorCode::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("sign in to do this")]
    Unauthenticated,
    /// A failed sign-in. One message for an unknown login and a wrong password.
    #[error("login or password is incorrect")]
    BadCredentials,
    #[error("you are not allowed to do this")]
    Forbidden,
    /// Not allowed to change these fields (rep features outside a manager's rep controls).
    #[error("you may not change: {}", .0.join(", "))]
    ForbiddenFields(Vec<String>),
    /// An app token without the scope this needs.
    #[error("this access token lacks the scope {0}")]
    MissingScope(crate::auth::scope::ApiScope),
    /// An app token asked for what only people in the management center may do.
    #[error("app access tokens cannot do this; sign in as a manager")]
    AppTokenRefused,
    /// What was looked for, e.g. "team". Also answered for rows of other accounts, so ids
    /// cannot be probed across accounts.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    BadUserInput(String),
    /// A patch turned features on while features they depend on end up off: each refused
    /// field with the settings it needs turned on, nearest first.
    #[error("{}", dependency_message(.needs))]
    DependencyViolation { needs: Vec<(String, Vec<String>)> },
    #[error("{0}")]
    Conflict(String),
    #[error("change your password to continue")]
    PasswordChangeRequired,
    #[error("validate your e-mail address to continue")]
    EmailValidationRequired,
    /// A single sign-on completion code that is unknown, used or expired.
    #[error("this sign-in code is invalid, used or expired; sign in again")]
    BadSsoCode,
    /// A correct password of a manager whose account signs in through its identity provider.
    #[error("your company signs in through its identity provider: use single sign-on")]
    SsoRequired { start_url: String },
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    /// The cause is logged where the error is turned into a response, never sent.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// "exportSessionReplay needs sessionReplay: turn sessionReplay on first, or in the same
/// patch."
fn dependency_message(needs: &[(String, Vec<String>)]) -> String {
    fn and(names: &[&str]) -> String {
        match names {
            [] => String::new(),
            [one] => (*one).to_owned(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        }
    }
    let clauses: Vec<String> = needs
        .iter()
        .map(|(field, missing)| {
            let missing: Vec<&str> = missing.iter().map(String::as_str).collect();
            format!("{field} needs {}", and(&missing))
        })
        .collect();
    let mut all: Vec<&str> = needs
        .iter()
        .flat_map(|(_, missing)| missing.iter().map(String::as_str))
        .collect();
    all.sort_unstable();
    all.dedup();
    format!(
        "{}: turn {} on first, or in the same patch.",
        clauses.join("; "),
        and(&all)
    )
}

impl AppError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Unauthenticated | AppError::BadCredentials | AppError::BadSsoCode => {
                ErrorCode::Unauthenticated
            }
            AppError::SsoRequired { .. } => ErrorCode::Forbidden,
            AppError::Forbidden
            | AppError::ForbiddenFields(_)
            | AppError::MissingScope(_)
            | AppError::AppTokenRefused => ErrorCode::Forbidden,
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::BadUserInput(_) => ErrorCode::BadUserInput,
            AppError::DependencyViolation { .. } => ErrorCode::DependencyViolation,
            AppError::Conflict(_) => ErrorCode::Conflict,
            AppError::PasswordChangeRequired => ErrorCode::PasswordChangeRequired,
            AppError::EmailValidationRequired => ErrorCode::EmailValidationRequired,
            AppError::RateLimited { .. } => ErrorCode::RateLimited,
            AppError::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        AppError::Internal(Box::new(cause))
    }

    /// Logs what went wrong, with the cause of an internal error (which clients never see).
    pub fn log(&self, context: &str) {
        match self {
            AppError::Internal(cause) => tracing::error!(error = %cause, "{context}"),
            other => tracing::warn!(error = %other, "{context}"),
        }
    }

    pub fn bad_input(message: impl Into<String>) -> Self {
        AppError::BadUserInput(message.into())
    }
}

/// A database error is `INTERNAL`, except what a race between two requests can cause: a row
/// that vanished before it was updated is `NOT_FOUND`, and a unique or foreign-key violation
/// (a row added twice, or a reference to a row deleted meanwhile) is `CONFLICT`. Writes of
/// the organization are serialized per account (`db::begin_account_write`), so these are the
/// fallback, logged like internal errors so that a missing check still shows.
impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        let mapped = match (&err, err.sql_err()) {
            (sea_orm::DbErr::RecordNotUpdated, _) => AppError::NotFound("record"),
            (_, Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => AppError::Conflict(
                "this conflicts with a change made at the same time; try again".into(),
            ),
            (_, Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))) => AppError::Conflict(
                "a record this refers to was changed at the same time; try again".into(),
            ),
            _ => return AppError::internal(err),
        };
        tracing::warn!(error = %err, code = mapped.code().as_str(), "database constraint race");
        mapped
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => AppError::internal(db),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

impl ErrorExtensions for AppError {
    fn extend(&self) -> async_graphql::Error {
        if let AppError::Internal(cause) = self {
            tracing::error!(error = %cause, "internal error");
        }
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code().as_str());
            match self {
                AppError::DependencyViolation { needs } => {
                    let fields: Vec<&str> = needs.iter().map(|(field, _)| field.as_str()).collect();
                    ext.set("fields", fields);
                    let needs: async_graphql::indexmap::IndexMap<async_graphql::Name, _> = needs
                        .iter()
                        .map(|(field, missing)| {
                            (
                                async_graphql::Name::new(field),
                                async_graphql::Value::from(missing.clone()),
                            )
                        })
                        .collect();
                    ext.set("needs", async_graphql::Value::Object(needs));
                }
                AppError::ForbiddenFields(fields) => ext.set("fields", fields.clone()),
                AppError::RateLimited { retry_after_secs } => {
                    ext.set("retryAfter", *retry_after_secs)
                }
                AppError::MissingScope(scope) => ext.set("scope", scope.name()),
                AppError::SsoRequired { start_url } => ext.set("ssoStartUrl", start_url.clone()),
                _ => {}
            }
        })
    }
}

/// Ends a service call in a resolver: `service::x(..).await.gql()`.
pub trait GqlResultExt<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResultExt<T> for Result<T, AppError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|err| err.extend())
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// An error of each code the service layer raises; `None` for the GraphQL layer's own.
    fn sample(code: ErrorCode) -> Option<AppError> {
        Some(match code {
            ErrorCode::Unauthenticated => AppError::Unauthenticated,
            ErrorCode::Forbidden => AppError::Forbidden,
            ErrorCode::NotFound => AppError::NotFound("team"),
            ErrorCode::BadUserInput => AppError::bad_input("name is empty"),
            ErrorCode::DependencyViolation => AppError::DependencyViolation {
                needs: vec![("reports".into(), vec!["managementCenterAccess".into()])],
            },
            ErrorCode::Conflict => AppError::Conflict("login taken".into()),
            ErrorCode::PasswordChangeRequired => AppError::PasswordChangeRequired,
            ErrorCode::EmailValidationRequired => AppError::EmailValidationRequired,
            ErrorCode::RateLimited => AppError::RateLimited {
                retry_after_secs: 30,
            },
            ErrorCode::Internal => AppError::internal(std::io::Error::other("disk on fire")),
            ErrorCode::GraphqlParseFailed | ErrorCode::GraphqlValidationFailed => return None,
        })
    }

    #[test]
    fn every_variant_carries_its_code_in_extensions() {
        for code in ErrorCode::ALL {
            let Some(err) = sample(code) else { continue };
            let err = err.extend();
            let ext = err.extensions.as_ref().map(|e| e.get("code").cloned());
            assert_eq!(
                ext,
                Some(Some(async_graphql::Value::from(code.as_str()))),
                "{code:?}"
            );
        }
    }

    #[test]
    fn a_row_gone_before_its_update_is_not_found() {
        let err = AppError::from(sea_orm::DbErr::RecordNotUpdated);
        assert_eq!(err.code(), ErrorCode::NotFound);
        let other = AppError::from(sea_orm::DbErr::Custom("disk on fire".into()));
        assert_eq!(other.code(), ErrorCode::Internal);
    }

    #[test]
    fn a_dependency_violation_says_what_to_turn_on() {
        let one = AppError::DependencyViolation {
            needs: vec![("exportSessionReplay".into(), vec!["sessionReplay".into()])],
        };
        assert_eq!(
            one.to_string(),
            "exportSessionReplay needs sessionReplay: turn sessionReplay on first, or in the same patch."
        );
        let two = AppError::DependencyViolation {
            needs: vec![
                (
                    "exportSessionReplay".into(),
                    vec!["sessionReplay".into(), "managementCenterAccess".into()],
                ),
                ("reports".into(), vec!["managementCenterAccess".into()]),
            ],
        };
        assert_eq!(
            two.to_string(),
            "exportSessionReplay needs sessionReplay and managementCenterAccess; reports needs \
             managementCenterAccess: turn managementCenterAccess and sessionReplay on first, or \
             in the same patch."
        );
    }

    #[test]
    fn internal_error_hides_its_cause() {
        let err = AppError::internal(std::io::Error::other("disk on fire")).extend();
        assert_eq!(err.message, "internal error");
    }

    #[test]
    fn codes_are_the_spec_names() {
        let names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names,
            [
                "UNAUTHENTICATED",
                "FORBIDDEN",
                "NOT_FOUND",
                "BAD_USER_INPUT",
                "DEPENDENCY_VIOLATION",
                "CONFLICT",
                "PASSWORD_CHANGE_REQUIRED",
                "EMAIL_VALIDATION_REQUIRED",
                "RATE_LIMITED",
                "INTERNAL",
                "GRAPHQL_PARSE_FAILED",
                "GRAPHQL_VALIDATION_FAILED"
            ]
        );
    }
}
