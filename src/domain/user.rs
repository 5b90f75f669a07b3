use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ids::UserId;
use super::validation::{bounded_text, Collector};
use super::{FieldErrors, ValidationError};

pub const MAX_EMAIL_CHARS: usize = 254;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_PHONE_CHARS: usize = 32;
pub const MAX_ADDRESS_CHARS: usize = 500;

/// An email address, lower-cased so lookups are case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, ValidationError> {
        let bad = |m: &str| ValidationError::new("email", m);
        let email = raw.trim();
        if email.is_empty() {
            return Err(bad("must not be blank"));
        }
        if email.chars().count() > MAX_EMAIL_CHARS {
            return Err(bad("must be at most 254 characters"));
        }
        let (local, domain) = email
            .rsplit_once('@')
            .ok_or_else(|| bad("must be a valid email address"))?;
        let valid_local = !local.is_empty() && local.len() <= 64 && !local.contains('@');
        let valid_domain = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let no_space = !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !(valid_local && valid_domain && no_space) {
            return Err(bad("must be a valid email address"));
        }
        Ok(Email(email.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the policy; only ever hashed, never stored.
pub struct Password(String);

impl Password {
    pub fn parse(field: &str, raw: &str) -> Result<Password, ValidationError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(ValidationError::new(field, "must be at least 8 characters"));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(ValidationError::new(
                field,
                "must be at most 128 characters",
            ));
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The editable profile fields, each already bounded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileChange {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Order emails on or off (a yes/no needs no parsing).
    pub order_emails: Option<bool>,
}

impl ProfileChange {
    pub fn with_order_emails(self, order_emails: Option<bool>) -> Self {
        ProfileChange {
            order_emails,
            ..self
        }
    }

    pub fn parse(
        name: Option<&str>,
        phone: Option<&str>,
        address: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = Collector::default();
        let name = name.map(|r| errors.take(bounded_text("name", r, MAX_NAME_CHARS)));
        let phone = phone.map(|r| errors.take(parse_phone(r)));
        let address = address.map(|r| errors.take(bounded_text("address", r, MAX_ADDRESS_CHARS)));
        // A given field is `Some(None)` only when it was refused, which `finish` reports.
        errors.finish(|| {
            Some(ProfileChange {
                name: name.flatten(),
                phone: phone.flatten(),
                address: address.flatten(),
                order_emails: None,
            })
        })
    }
}

fn parse_phone(raw: &str) -> Result<String, ValidationError> {
    let phone = bounded_text("phone", raw, MAX_PHONE_CHARS)?;
    let ok = phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !ok {
        return Err(ValidationError::new(
            "phone",
            "may contain only digits, spaces and + - ( ) .",
        ));
    }
    Ok(phone)
}

/// What a sign-up gives: the API's body and the register page's form both become this.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: Password,
    pub name: String,
}

impl Registration {
    /// Every field checked, every problem reported at once.
    pub fn parse(email: &str, password: &str, name: Option<&str>) -> Result<Self, FieldErrors> {
        let mut errors = Collector::default();
        let email = errors.take(Email::parse(email));
        let password = errors.take(Password::parse("password", password));
        let name = errors.take(bounded_text("name", name.unwrap_or(""), MAX_NAME_CHARS));
        errors.finish(|| {
            Some(Registration {
                email: email?,
                password: password?,
                name: name?,
            })
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub password_hash: String,
    pub name: String,
    pub phone: String,
    pub address: String,
    pub is_admin: bool,
    /// Bumped on password change: every token minted before is dead.
    pub token_version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub date_joined: OffsetDateTime,
    /// Emails when an order is placed and changes status; on unless the shopper turned them
    /// off (users stored before the setting existed read as on).
    #[serde(default = "on")]
    pub order_emails: bool,
}

fn on() -> bool {
    true
}

impl User {
    pub fn apply(&mut self, change: ProfileChange) {
        if let Some(name) = change.name {
            self.name = name;
        }
        if let Some(phone) = change.phone {
            self.phone = phone;
        }
        if let Some(address) = change.address {
            self.address = address;
        }
        if let Some(order_emails) = change.order_emails {
            self.order_emails = order_emails;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_lowercased_and_validated() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "ann@exa mple.com",
            "ann@.com",
            "ann@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn password_policy_is_8_to_128_characters() {
        assert!(Password::parse("password", "1234567").is_err());
        assert!(Password::parse("password", "12345678").is_ok());
        assert!(Password::parse("password", &"x".repeat(128)).is_ok());
        assert!(Password::parse("password", &"x".repeat(129)).is_err());
        assert!(Password::parse("password", "ééééééé").is_err());
    }

    #[test]
    fn profile_fields_are_bounded() {
        assert!(ProfileChange::parse(Some(&"n".repeat(100)), None, None).is_ok());
        assert!(ProfileChange::parse(Some(&"n".repeat(101)), None, None).is_err());
        assert!(ProfileChange::parse(None, Some(&"1".repeat(33)), None).is_err());
        assert!(ProfileChange::parse(None, Some("call me"), None).is_err());
        assert!(ProfileChange::parse(None, None, Some(&"a".repeat(501))).is_err());
        let ok =
            ProfileChange::parse(Some(" Ann "), Some("+44 20 1234"), Some("1 Main St")).unwrap();
        assert_eq!(ok.name.as_deref(), Some("Ann"));
    }
}
