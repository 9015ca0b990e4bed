//! Checks of user input shared by every domain. Each failure says which field and why.

use crate::error::AppError;

pub fn name(field: &str, value: &str, max: usize) -> Result<String, AppError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(AppError::bad_input(format!("{field} must not be empty")));
    }
    if trimmed.chars().count() > max {
        return Err(AppError::bad_input(format!(
            "{field} must be at most {max} characters"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(AppError::bad_input(format!(
            "{field} must not contain control characters"
        )));
    }
    Ok(trimmed.to_owned())
}

/// Logins: 3 to 128 characters of letters, digits and `. _ - @ +`, so an e-mail address works
/// as a login. Uniqueness (case-insensitive) is the database's job.
pub fn login(value: &str) -> Result<String, AppError> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if !(3..=128).contains(&len) {
        return Err(AppError::bad_input("login must be 3 to 128 characters"));
    }
    if !trimmed
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+'))
    {
        return Err(AppError::bad_input(
            "login may contain only letters, digits and . _ - @ +",
        ));
    }
    Ok(trimmed.to_owned())
}

/// A plausible e-mail address: one `@`, something on each side, a dot in the domain, no spaces.
/// Whether it really receives mail is what e-mail validation is for.
pub fn email(value: &str) -> Result<String, AppError> {
    let trimmed = value.trim();
    let ok = trimmed.len() <= 320
        && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(trimmed.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.contains('@') && domain.contains('.')
                && !domain.starts_with('.') && !domain.ends_with('.'));
    if ok {
        Ok(trimmed.to_owned())
    } else {
        Err(AppError::bad_input(format!(
            "email `{trimmed}` is not a valid e-mail address"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_accept_email_shapes_and_refuse_spaces() {
        assert_eq!(
            login(" Alice.B@corp.example ").ok().as_deref(),
            Some("Alice.B@corp.example")
        );
        assert!(login("al").is_err());
        assert!(login("al ice").is_err());
    }

    #[test]
    fn emails_need_a_domain_with_a_dot() {
        assert!(email("a@b.example").is_ok());
        assert!(email("a@localhost").is_err());
        assert!(email("a b@c.example").is_err());
        assert!(email("@c.example").is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  Acme ", 10).ok().as_deref(), Some("Acme"));
        assert!(name("name", "   ", 10).is_err());
        assert!(name("name", "x".repeat(11).as_str(), 10).is_err());
    }
}
