use super::AccessClaims;
use crate::domain::user::User;

/// A request's user, resolved from a valid, unrevoked access token of the current version.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub claims: AccessClaims,
}
