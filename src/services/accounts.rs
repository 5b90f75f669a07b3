//! Register, sign in, rotate, sign out, profile, password change.
use actix::Addr;
use serde::Serialize;
use std::sync::Arc;

use super::throttle::LoginThrottle;
use super::{blocking, now};
use crate::actors::messages::CredentialsChanged;
use crate::actors::Hub;
use crate::auth::{CurrentUser, PasswordHasher, TokenIssuer};
use crate::domain::user::{Email, Password, ProfileChange, User};
use crate::error::AppError;
use crate::store::{RefreshOutcome, Store, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct TokenPair {
    pub access: String,
    pub refresh: String,
}

#[derive(Clone)]
pub struct Accounts {
    store: Store,
    hasher: Arc<PasswordHasher>,
    tokens: Arc<TokenIssuer>,
    throttle: LoginThrottle,
    /// Told when credentials stop being good, so open live streams holding them close.
    hub: Addr<Hub>,
}

const BAD_CREDENTIALS: &str = "no active account found with the given credentials";
const BAD_TOKEN: &str = "the token is invalid or expired";

impl Accounts {
    pub fn new(
        store: Store,
        hasher: PasswordHasher,
        tokens: TokenIssuer,
        throttle: LoginThrottle,
        hub: Addr<Hub>,
    ) -> Accounts {
        Accounts {
            store,
            hasher: Arc::new(hasher),
            tokens: Arc::new(tokens),
            throttle,
            hub,
        }
    }

    pub fn tokens(&self) -> &TokenIssuer {
        &self.tokens
    }

    pub async fn register(
        &self,
        email: Email,
        password: Password,
        name: String,
        client: &str,
    ) -> Result<User, AppError> {
        self.throttle.before_registration(client)?;
        let store = self.store.clone();
        let probe = email.clone();
        if blocking(move || Ok(store.user_by_email(&probe).is_ok())).await? {
            return Err(AppError::Conflict(
                "a user with that email already exists".into(),
            ));
        }
        let password_hash = self.hasher.hash(password.expose().to_owned()).await?;
        let store = self.store.clone();
        blocking(move || {
            let joined = now();
            // create_user refuses a duplicate email atomically, should another sign-up win
            // the race while the hash ran.
            Ok(store.create_user(|id| User {
                id,
                email: email.clone(),
                password_hash: password_hash.clone(),
                name: name.clone(),
                phone: String::new(),
                address: String::new(),
                is_admin: false,
                token_version: 0,
                date_joined: joined,
            })?)
        })
        .await
    }

    /// Email + password → a fresh token pair. One message for every bad credential.
    pub async fn login(
        &self,
        email: &str,
        password: String,
        client: &str,
    ) -> Result<(User, TokenPair), AppError> {
        let email_key = email.trim().to_lowercase();
        let attempt = self.throttle.before_attempt(client, &email_key)?;
        // Slows guessing at an email under attack without refusing its owner.
        tokio::time::sleep(attempt.delay).await;
        let store = self.store.clone();
        let email = Email::parse(email).ok();
        let found = blocking(move || Ok(email.and_then(|e| store.user_by_email(&e).ok()))).await?;
        let user = match found {
            Some(user) => {
                let stored = user.password_hash.clone();
                self.hasher.verify(password, stored).await?.then_some(user)
            }
            None => self.hasher.verify_decoy(password).await.map(|_| None)?,
        };
        // A failure was counted before the check; only a success is reported back.
        let Some(user) = user else {
            return Err(AppError::Unauthorized(BAD_CREDENTIALS.into()));
        };
        self.throttle.after_success(client, &email_key);
        let pair = self.start_session(&user)?;
        Ok((user, pair))
    }

    fn start_session(&self, user: &User) -> Result<TokenPair, AppError> {
        let now = now().unix_timestamp();
        let (refresh, hash) = self.tokens.new_refresh();
        self.store.start_refresh_family(
            &hash,
            user.id,
            user.token_version,
            now + self.tokens.refresh_ttl_seconds,
        )?;
        Ok(TokenPair {
            access: self.tokens.issue_access(user.id, user.token_version, now),
            refresh,
        })
    }

    /// Spends a refresh token for a new pair. A token presented twice revokes its family.
    pub fn refresh(&self, refresh: &str) -> Result<(User, TokenPair), AppError> {
        let now = now().unix_timestamp();
        let (next, next_hash) = self.tokens.new_refresh();
        let old_hash = TokenIssuer::hash_refresh(refresh);
        let expires = now + self.tokens.refresh_ttl_seconds;
        let record = match self
            .store
            .rotate_refresh(&old_hash, &next_hash, now, expires)?
        {
            RefreshOutcome::Rotated(record) => record,
            RefreshOutcome::Reused => {
                tracing::warn!(
                    "a rotated refresh token was presented again; its family is revoked"
                );
                return Err(AppError::Unauthorized(BAD_TOKEN.into()));
            }
            RefreshOutcome::Invalid => return Err(AppError::Unauthorized(BAD_TOKEN.into())),
        };
        let user = self
            .store
            .user(record.user_id)
            .map_err(|_| AppError::Unauthorized(BAD_TOKEN.into()))?;
        if user.token_version != record.token_version {
            return Err(AppError::Unauthorized(BAD_TOKEN.into()));
        }
        let pair = TokenPair {
            access: self.tokens.issue_access(user.id, user.token_version, now),
            refresh: next,
        };
        Ok((user, pair))
    }

    /// Whether `refresh` would still rotate (its family not revoked, the token unspent): what
    /// a page's grace answer checks before handing out a successor it remembered.
    pub fn refresh_alive(&self, refresh: &str) -> Result<bool, AppError> {
        let hash = TokenIssuer::hash_refresh(refresh);
        Ok(self
            .store
            .refresh_token_alive(&hash, now().unix_timestamp())?)
    }

    /// Revokes the refresh token's family and, when given, the access token at once.
    pub fn logout(&self, refresh: &str, access: Option<&CurrentUser>) -> Result<(), AppError> {
        self.store
            .revoke_refresh_family(&TokenIssuer::hash_refresh(refresh))?;
        if let Some(current) = access {
            self.store
                .revoke_access_token(&current.claims.jti, current.claims.exp)?;
            self.hub.do_send(CredentialsChanged {
                user: current.user.id,
                revoked_jti: Some(current.claims.jti.clone()),
                token_version: None,
            });
        }
        Ok(())
    }

    /// Access token → the user, if the token is valid, unrevoked and of the current version.
    pub fn authenticate(&self, token: &str) -> Result<CurrentUser, AppError> {
        let unauthorized = || AppError::Unauthorized(BAD_TOKEN.into());
        let claims = self.tokens.decode_access(token).ok_or_else(unauthorized)?;
        let user_id = claims.user_id().ok_or_else(unauthorized)?;
        if self.store.is_access_token_revoked(&claims.jti)? {
            return Err(unauthorized());
        }
        let user = match self.store.user(user_id) {
            Ok(user) => user,
            Err(StoreError::NotFound) => return Err(unauthorized()),
            Err(e) => return Err(e.into()),
        };
        if user.token_version != claims.ver {
            return Err(unauthorized());
        }
        Ok(CurrentUser { user, claims })
    }

    /// The email of each of `ids` that still exists, for admin pages that name customers.
    pub fn emails(
        &self,
        ids: impl IntoIterator<Item = crate::domain::ids::UserId>,
    ) -> Result<std::collections::HashMap<crate::domain::ids::UserId, String>, AppError> {
        let mut found = std::collections::HashMap::new();
        for id in ids {
            match self.store.user(id) {
                Ok(user) => {
                    found.insert(id, user.email.as_str().to_owned());
                }
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(found)
    }

    pub fn update_profile(&self, user: &User, change: ProfileChange) -> Result<User, AppError> {
        Ok(self
            .store
            .update_user(user.id, |u| u.apply(change.clone()))?)
    }

    /// Checks the current password, stores the new hash and bumps the token version, so every
    /// token minted before stops working.
    pub async fn change_password(
        &self,
        user: &User,
        current: String,
        new: Password,
    ) -> Result<(), AppError> {
        self.throttle.before_password_check(user.id)?;
        let stored = user.password_hash.clone();
        if !self.hasher.verify(current, stored).await? {
            return Err(AppError::field("current_password", "is not correct"));
        }
        let hash = self.hasher.hash(new.expose().to_owned()).await?;
        let (store, id) = (self.store.clone(), user.id);
        let updated = blocking(move || {
            Ok(store.update_user(id, |u| {
                u.password_hash = hash.clone();
                u.token_version += 1;
            })?)
        })
        .await?;
        self.hub.do_send(CredentialsChanged {
            user: id,
            revoked_jti: None,
            token_version: Some(updated.token_version),
        });
        Ok(())
    }

    /// Makes `email` an admin with `password`, creating the account when needed.
    pub fn ensure_admin(&self, email: &Email, password: &Password) -> Result<User, AppError> {
        let hash = self.hasher.hash_here(password.expose())?;
        match self.store.user_by_email(email) {
            Ok(user) => Ok(self.store.update_user(user.id, |u| {
                u.is_admin = true;
                u.password_hash = hash.clone();
            })?),
            Err(StoreError::NotFound) => {
                let joined = now();
                Ok(self.store.create_user(|id| User {
                    id,
                    email: email.clone(),
                    password_hash: hash.clone(),
                    name: String::new(),
                    phone: String::new(),
                    address: String::new(),
                    is_admin: true,
                    token_version: 0,
                    date_joined: joined,
                })?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Periodic housekeeping: expired tokens and stale throttle state.
    pub fn prune(&self) -> Result<usize, AppError> {
        self.throttle.retain_recent();
        Ok(self.store.prune_expired_tokens(now().unix_timestamp())?)
    }
}
