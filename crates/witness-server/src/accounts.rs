//! Who may be a user: the rules for usernames and email addresses, and how a new user gets
//! its id — one home for the API, the command line, the first start and restore alike. The
//! HTTP layer only translates a rule's complaint into a field error.

use chrono::Utc;
use witness_api::{Role, User};

/// A username as stored: trimmed, 1–64 letters, digits and `. _ - @`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// The username in `text` (surrounding spaces dropped), or what is wrong with it, worded
    /// to follow the field's name ("is required").
    pub fn parse(text: &str) -> Result<Self, String> {
        let username = text.trim();
        if username.is_empty() {
            return Err("is required".to_string());
        }
        if username.chars().count() > 64 {
            return Err("must be at most 64 characters".to_string());
        }
        if !username
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        {
            return Err("may contain only letters, digits, and . _ - @".to_string());
        }
        Ok(Username(username.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An email address as stored: something `@` a domain with a dot, at most 254 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, String> {
        let email = text.trim();
        let valid = email.len() <= 254
            && email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
        if valid {
            Ok(Email(email.to_string()))
        } else {
            Err("is not an email address".to_string())
        }
    }

    /// An optional address: absent, empty or blank is no address.
    pub fn parse_optional(text: Option<&str>) -> Result<Option<Self>, String> {
        match text.map(str::trim).filter(|text| !text.is_empty()) {
            Some(text) => Email::parse(text).map(Some),
            None => Ok(None),
        }
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Free text such as a display name: trimmed, and blank is absent.
pub fn optional_text(value: Option<String>) -> Option<String> {
    value
        .map(|text| text.trim().to_string())
        .filter(|text| !text.is_empty())
}

/// A new user, with a new id and created now.
pub fn new_user(
    username: Username,
    display_name: Option<String>,
    email: Option<Email>,
    role: Role,
) -> User {
    User {
        id: format!("user-{}", hex::encode(rand::random::<[u8; 6]>())),
        username: username.into_string(),
        display_name: optional_text(display_name),
        email: email.map(Email::into_string),
        role,
        created_at: Utc::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_and_checked() {
        assert_eq!(
            Username::parse("  zoe ").map(Username::into_string),
            Ok("zoe".into())
        );
        assert_eq!(Username::parse(" "), Err("is required".to_string()));
        assert!(Username::parse(&"a".repeat(65)).is_err());
        assert!(Username::parse("a b").is_err());
        assert!(Username::parse("ops.bot-1@acme").is_ok());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(Email::parse("zoe@example.com").is_ok());
        assert!(Email::parse("@example.com").is_err());
        assert!(Email::parse("zoe@localhost").is_err());
        assert_eq!(Email::parse_optional(Some("  ")), Ok(None));
        assert_eq!(Email::parse_optional(None), Ok(None));
    }

    #[test]
    fn new_users_get_distinct_ids() {
        let name = || Username::parse("zoe").expect("valid");
        let one = new_user(name(), Some(" ".into()), None, Role::Auditor);
        let two = new_user(name(), None, None, Role::Auditor);
        assert_ne!(one.id, two.id);
        assert!(one.id.starts_with("user-"));
        assert_eq!(one.display_name, None);
    }
}
