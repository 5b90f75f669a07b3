//! Passwords, tokens, and the user a valid token names (the extractors are in http).
pub mod current_user;
pub mod password;
pub mod tokens;

pub use current_user::CurrentUser;
pub use password::PasswordHasher;
pub use tokens::{AccessClaims, TokenIssuer};
