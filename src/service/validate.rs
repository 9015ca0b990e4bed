//! Checks of user input shared by every domain. Each failure names the field and why, never
//! the value (it may be a pasted secret).
//!
//! Lengths are counted in characters (Unicode scalar values), the unit of the columns'
//! `VARCHAR(n)` on PostgreSQL, so a value that passes fits on every database. Where a value is
//! also stored case-folded (a login's `login_key`), the folded form must fit too: some
//! characters grow when lower-cased (`İ` becomes `i̇`, two characters).

use crate::error::AppError;

/// The longest login, and the longest case-folded login key (both columns are 128).
pub const MAX_LOGIN_CHARS: usize = 128;
/// The longest e-mail address (the column is 320).
pub const MAX_EMAIL_CHARS: usize = 320;

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
/// as a login; lower-cased (its key) it must still be at most 128 characters. Uniqueness
/// (case-insensitive) is the database's job.
pub fn login(value: &str) -> Result<String, AppError> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    let key_len = entity::manager::login_key(trimmed).chars().count();
    if !(3..=MAX_LOGIN_CHARS).contains(&len) || key_len > MAX_LOGIN_CHARS {
        return Err(AppError::bad_input(format!(
            "login must be 3 to {MAX_LOGIN_CHARS} characters, also when lower-cased"
        )));
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

/// A plausible e-mail address of at most 320 characters: one `@`, something on each side, a
/// dot in the domain, no spaces. Whether it really receives mail is what e-mail validation is
/// for.
pub fn email(value: &str) -> Result<String, AppError> {
    let trimmed = value.trim();
    if trimmed.chars().count() > MAX_EMAIL_CHARS {
        return Err(AppError::bad_input(format!(
            "email must be at most {MAX_EMAIL_CHARS} characters"
        )));
    }
    let ok = !trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(trimmed.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.contains('@') && domain.contains('.')
                && !domain.starts_with('.') && !domain.ends_with('.'));
    if ok {
        Ok(trimmed.to_owned())
    } else {
        Err(AppError::bad_input("email is not a valid e-mail address"))
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
    fn a_login_and_its_lower_cased_key_both_fit_128_characters() {
        // `İ` lower-cases to two characters.
        assert!(login(&"İ".repeat(64)).is_ok());
        assert_eq!(
            entity::manager::login_key(&"İ".repeat(64)).chars().count(),
            128
        );
        assert!(login(&"İ".repeat(65)).is_err(), "its key would be 130");
        assert!(login(&"a".repeat(128)).is_ok());
        assert!(login(&"a".repeat(129)).is_err());
        assert!(login(&"ß".repeat(128)).is_ok(), "2 bytes, 1 character");
    }

    #[test]
    fn refusals_name_the_field_not_the_value() {
        let secret = "Hunter2-Secret!";
        for refused in [
            login(secret),
            email(secret),
            name("name", &format!("{secret}\u{7}"), 200),
        ] {
            match refused {
                Err(AppError::BadUserInput(message)) => {
                    assert!(!message.contains(secret), "{message}")
                }
                other => panic!("expected BAD_USER_INPUT, got {other:?}"),
            }
        }
    }

    #[test]
    fn emails_need_a_domain_with_a_dot() {
        assert!(email("a@b.example").is_ok());
        assert!(email("a@localhost").is_err());
        assert!(email("a b@c.example").is_err());
        assert!(email("@c.example").is_err());
        let local = "é".repeat(64);
        let at_limit = format!("{local}@{}.example", "d".repeat(320 - 64 - 1 - 8));
        assert_eq!(at_limit.chars().count(), 320);
        assert!(email(&at_limit).is_ok(), "320 characters, more bytes");
        assert!(email(&format!("x{at_limit}")).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("name", "  Acme ", 10).ok().as_deref(), Some("Acme"));
        assert!(name("name", "   ", 10).is_err());
        assert!(name("name", "x".repeat(11).as_str(), 10).is_err());
    }
}
