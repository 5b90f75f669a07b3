//! Register, sign in, rotate, sign out, profile, password change.
use actix::Addr;
use serde::Serialize;
use std::sync::Arc;

use super::blocking;
use super::throttle::LoginThrottle;
use crate::actors::messages::CredentialsChanged;
use crate::actors::Hub;
use crate::auth::{CurrentUser, PasswordHasher, TokenIssuer};
use crate::domain::clock::Clock;
use crate::domain::user::{Email, Password, ProfileChange, User};
use crate::error::AppError;
use crate::store::Revocation;
use crate::store::{RefreshOutcome, SharedStorage, StoreError};

// What a sign-in or a refresh answers; the OpenAPI document describes this very type.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    /// Access token: send it as `Authorization: Bearer <access>`.
    pub access: String,
    /// Refresh token: exchange it at `/api/auth/token/refresh/` (it rotates).
    pub refresh: String,
}

#[derive(Clone)]
pub struct Accounts {
    store: SharedStorage,
    hasher: Arc<PasswordHasher>,
    tokens: Arc<TokenIssuer>,
    throttle: LoginThrottle,
    /// Told when credentials stop being good, so open live streams holding them close.
    hub: Addr<Hub>,
}

const BAD_CREDENTIALS: &str = "no active account found with the given credentials";
const BAD_TOKEN: &str = "the token is invalid or expired";
/// How long after a page session's rotation the old refresh token still yields its successor.
const SESSION_GRACE_SECONDS: i64 = 30;
/// Rotations a page session's grace answer follows to the newest successor.
const MAX_SUCCESSORS: usize = 8;

impl Accounts {
    pub fn new(
        store: SharedStorage,
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

    /// The application's clock, the one its tokens are issued and checked on.
    pub fn clock(&self) -> &Clock {
        self.tokens.clock()
    }

    pub async fn register(
        &self,
        email: Email,
        password: Password,
        name: String,
        client: &str,
    ) -> Result<User, AppError> {
        self.throttle.before_registration(client).await?;
        let store = self.store.clone();
        let probe = email.clone();
        if blocking(move || Ok(store.user_by_email(&probe).is_ok())).await? {
            return Err(AppError::Conflict(
                "a user with that email already exists".into(),
            ));
        }
        let password_hash = self.hasher.hash(password.expose().to_owned()).await?;
        let (store, joined) = (self.store.clone(), self.clock().now());
        blocking(move || {
            // create_user refuses a duplicate email atomically, should another sign-up win
            // the race while the hash ran.
            Ok(store.create_user(&|id| User {
                id,
                email: email.clone(),
                password_hash: password_hash.clone(),
                name: name.clone(),
                phone: String::new(),
                address: String::new(),
                is_admin: false,
                token_version: 0,
                date_joined: joined,
                order_emails: true,
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
        let attempt = self.throttle.before_attempt(client, &email_key).await?;
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
        // The pair's failure was counted before the check; the email's is counted now.
        let Some(user) = user else {
            self.throttle.after_failure(&email_key).await;
            return Err(AppError::Unauthorized(BAD_CREDENTIALS.into()));
        };
        self.throttle.after_success(client, &email_key).await;
        let pair = self.start_session(&user).await?;
        Ok((user, pair))
    }

    async fn start_session(&self, user: &User) -> Result<TokenPair, AppError> {
        let now = self.clock().unix_seconds();
        let (refresh, hash) = self.tokens.new_refresh();
        let (store, id, version) = (self.store.clone(), user.id, user.token_version);
        let expires = now + self.tokens.refresh_ttl_seconds;
        blocking(move || Ok(store.start_refresh_family(&hash, id, version, expires)?)).await?;
        Ok(TokenPair {
            access: self.tokens.issue_access(user.id, user.token_version, now),
            refresh,
        })
    }

    /// Rotates `refresh` (the API's refresh): a token presented twice revokes its family.
    pub async fn refresh(&self, refresh: &str) -> Result<(User, TokenPair), AppError> {
        let (user, pair, _) = self.rotate(refresh, 0).await?;
        Ok((user, pair))
    }

    /// Rotates a page session's refresh token. A page, its htmx requests and its live
    /// connection often present the same expired session at once, possibly to different
    /// instances; within `SESSION_GRACE_SECONDS` of a rotation they all get the newest
    /// successor (the same one: successors are derived, see `TokenIssuer::successor`) rather
    /// than look like a stolen token. Later, a spent token revokes its family as on the API.
    pub async fn refresh_session(&self, refresh: &str) -> Result<(User, TokenPair), AppError> {
        let mut token = refresh.to_owned();
        // A successor spent as well was rotated within the window too: follow to the newest.
        for _ in 0..MAX_SUCCESSORS {
            let (user, pair, spent) = self.rotate(&token, SESSION_GRACE_SECONDS).await?;
            if !spent {
                return Ok((user, pair));
            }
            token = pair.refresh;
        }
        Err(AppError::Unauthorized(BAD_TOKEN.into()))
    }

    /// One rotation; also says whether the successor answered is itself spent already.
    async fn rotate(
        &self,
        refresh: &str,
        grace_seconds: i64,
    ) -> Result<(User, TokenPair, bool), AppError> {
        let now = self.clock().unix_seconds();
        let (next, next_hash) = self.tokens.successor(refresh);
        let old_hash = TokenIssuer::hash_refresh(refresh);
        let expires = now + self.tokens.refresh_ttl_seconds;
        let store = self.store.clone();
        let rotated = blocking(move || {
            let outcome =
                store.rotate_refresh(&old_hash, &next_hash, now, expires, grace_seconds)?;
            let user = match &outcome {
                RefreshOutcome::Rotated(record) => store.user(record.user_id).ok(),
                _ => None,
            };
            Ok((outcome, user))
        })
        .await?;
        let (record, user) = match rotated {
            (RefreshOutcome::Rotated(record), user) => (record, user),
            (RefreshOutcome::Reused, _) => {
                tracing::warn!(
                    "a rotated refresh token was presented again; its family is revoked"
                );
                return Err(AppError::Unauthorized(BAD_TOKEN.into()));
            }
            (RefreshOutcome::Invalid, _) => return Err(AppError::Unauthorized(BAD_TOKEN.into())),
        };
        let user = user.ok_or_else(|| AppError::Unauthorized(BAD_TOKEN.into()))?;
        if user.token_version != record.token_version {
            return Err(AppError::Unauthorized(BAD_TOKEN.into()));
        }
        let pair = TokenPair {
            access: self.tokens.issue_access(user.id, user.token_version, now),
            refresh: next,
        };
        Ok((user, pair, record.used))
    }

    /// Revokes the refresh token's family and, when given, the access token at once.
    pub async fn logout(
        &self,
        refresh: &str,
        access: Option<&CurrentUser>,
    ) -> Result<(), AppError> {
        let store = self.store.clone();
        let family = TokenIssuer::hash_refresh(refresh);
        let access = access.map(|c| (c.user.id, c.claims.jti.clone(), c.claims.exp));
        let revoked = access.clone();
        blocking(move || {
            store.revoke_refresh_family(&family)?;
            if let Some((_, jti, exp)) = revoked {
                store.revoke_access_token(&jti, exp)?;
            }
            Ok(())
        })
        .await?;
        if let Some((user, jti, _)) = access {
            self.credentials_changed(CredentialsChanged {
                user,
                revoked_jti: Some(jti),
                token_version: None,
            })
            .await;
        }
        Ok(())
    }

    /// Closes the live streams holding credentials that stopped being good: this instance's
    /// at once, and other instances' on the same database through the store's announcement.
    async fn credentials_changed(&self, change: CredentialsChanged) {
        let (store, revocation) = (self.store.clone(), Revocation::from(&change));
        self.hub.do_send(change);
        // The tokens are refused everywhere already (the database says so); this only closes
        // open streams early, so a failure is logged, not answered.
        if let Err(e) = blocking(move || Ok(store.announce_revocation(&revocation)?)).await {
            tracing::warn!(error = %e, "could not tell other instances to close revoked streams");
        }
    }

    /// Access token → the user, if the token is valid, unrevoked and of the current version.
    /// Runs on every authenticated request: a hot call (`HotCalls`), never a read that blocks
    /// the async worker and with it every connection of that worker.
    pub async fn authenticate(&self, token: &str) -> Result<CurrentUser, AppError> {
        let unauthorized = || AppError::Unauthorized(BAD_TOKEN.into());
        let claims = self.tokens.decode_access(token).ok_or_else(unauthorized)?;
        let user_id = claims.user_id().ok_or_else(unauthorized)?;
        let found = self
            .store
            .clone()
            .token_user_soon(user_id, claims.jti.clone())
            .await;
        let user = match found {
            Ok(Some(user)) => user,
            Ok(None) | Err(StoreError::NotFound) => return Err(unauthorized()),
            Err(e) => return Err(e.into()),
        };
        if user.token_version != claims.ver {
            return Err(unauthorized());
        }
        Ok(CurrentUser { user, claims })
    }

    /// The email of each of `ids` that still exists, for admin pages that name customers.
    pub async fn emails(
        &self,
        ids: impl IntoIterator<Item = crate::domain::ids::UserId>,
    ) -> Result<std::collections::HashMap<crate::domain::ids::UserId, String>, AppError> {
        let (store, ids): (_, Vec<_>) = (self.store.clone(), ids.into_iter().collect());
        blocking(move || {
            let mut found = std::collections::HashMap::new();
            for id in ids {
                match store.user(id) {
                    Ok(user) => {
                        found.insert(id, user.email.as_str().to_owned());
                    }
                    Err(StoreError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(found)
        })
        .await
    }

    pub async fn update_profile(
        &self,
        user: &User,
        change: ProfileChange,
    ) -> Result<User, AppError> {
        let (store, id) = (self.store.clone(), user.id);
        blocking(move || Ok(store.update_user(id, &|u| u.apply(change.clone()))?)).await
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
            Ok(store.update_user(id, &|u| {
                u.password_hash = hash.clone();
                u.token_version += 1;
            })?)
        })
        .await?;
        self.credentials_changed(CredentialsChanged {
            user: id,
            revoked_jti: None,
            token_version: Some(updated.token_version),
        })
        .await;
        Ok(())
    }

    /// Makes `email` an admin with `password`, creating the account when needed.
    pub fn ensure_admin(&self, email: &Email, password: &Password) -> Result<User, AppError> {
        let hash = self.hasher.hash_here(password.expose())?;
        match self.store.user_by_email(email) {
            Ok(user) => Ok(self.store.update_user(user.id, &|u| {
                u.is_admin = true;
                u.password_hash = hash.clone();
            })?),
            Err(StoreError::NotFound) => {
                let joined = self.clock().now();
                Ok(self.store.create_user(&|id| User {
                    id,
                    email: email.clone(),
                    password_hash: hash.clone(),
                    name: String::new(),
                    phone: String::new(),
                    address: String::new(),
                    is_admin: true,
                    token_version: 0,
                    date_joined: joined,
                    order_emails: true,
                })?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Periodic housekeeping: expired tokens and stale throttle state.
    pub fn prune(&self) -> Result<usize, AppError> {
        self.throttle.retain_recent();
        Ok(self
            .store
            .prune_expired_tokens(self.clock().unix_seconds())?)
    }
}
