//! Passwords, tokens, and the extractors that turn a request into a known user.
pub mod extract;
pub mod password;
pub mod tokens;

pub use extract::{Admin, CurrentUser, MaybeUser};
pub use password::PasswordHasher;
pub use tokens::{AccessClaims, TokenIssuer};
