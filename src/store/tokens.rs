//! Refresh tokens (stored only as hashes, grouped in rotation families) and revoked access tokens.
use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError as Abortable;
use sled::Transactional;

use super::storage::{AccountStorage, TokenStorage};
use super::{codec, next_id, Store, StoreError};
use crate::domain::ids::{FamilyId, UserId};
use crate::domain::user::User;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub user_id: UserId,
    pub family: FamilyId,
    pub token_version: u32,
    /// Unix seconds.
    pub expires_at: i64,
    /// Set once the token has been rotated; presenting it again means it was stolen (unless
    /// within the grace window, see `TokenStorage::rotate_refresh`).
    pub used: bool,
    /// When it was rotated (unix seconds), and the hash of the token that replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<Rotation>,
}

/// A spent refresh token's rotation: what a second presenter within the grace window gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub at: i64,
    pub successor: Vec<u8>,
}

impl RefreshRecord {
    /// Whether presenting this spent token again with `successor` is the same rotation
    /// replayed within `grace_seconds` of it (a page and its requests racing), not a theft.
    pub fn replays(&self, successor: &[u8], now: i64, grace_seconds: i64) -> bool {
        grace_seconds > 0
            && self
                .rotation
                .as_ref()
                .is_some_and(|r| r.successor == successor && now - r.at <= grace_seconds)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Family {
    user_id: UserId,
    revoked: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was live; it is now spent and the new one stored in its family.
    Rotated(RefreshRecord),
    /// The token had been rotated already: the whole family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

impl TokenStorage for Store {
    fn prune_expired_tokens(&self, now: i64) -> Result<usize, StoreError> {
        let engine = self.engine()?;
        let t = &engine.trees;
        let mut removed = 0;
        for entry in t.revoked_access.iter() {
            let (key, value) = entry?;
            if (codec::read_u64(Some(&value)) as i64) <= now {
                let _writing = self.writing();
                t.revoked_access.remove(key)?;
                removed += 1;
            }
        }
        for entry in t.refresh.iter() {
            let (key, value) = entry?;
            let record: RefreshRecord = codec::decode(&value)?;
            if record.expires_at <= now {
                let _writing = self.writing();
                t.refresh.remove(key)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn start_refresh_family(
        &self,
        hash: &[u8],
        user_id: UserId,
        token_version: u32,
        expires_at: i64,
    ) -> Result<RefreshRecord, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let record =
            (&t.meta, &t.refresh, &t.families).transaction(|(meta, refresh, families)| {
                let family = FamilyId::new(next_id(meta, "token_family")?);
                let record = RefreshRecord {
                    user_id,
                    family,
                    token_version,
                    expires_at,
                    used: false,
                    rotation: None,
                };
                families.insert(
                    &family.to_key(),
                    codec::encode(&Family {
                        user_id,
                        revoked: false,
                    }),
                )?;
                refresh.insert(hash, codec::encode(&record))?;
                Ok(record)
            })?;
        Ok(record)
    }

    fn rotate_refresh(
        &self,
        old_hash: &[u8],
        new_hash: &[u8],
        now: i64,
        new_expires_at: i64,
        grace_seconds: i64,
    ) -> Result<RefreshOutcome, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let outcome = (&t.refresh, &t.families).transaction(|(refresh, families)| {
            let Some(raw) = refresh.get(old_hash)? else {
                return Ok(RefreshOutcome::Invalid);
            };
            let mut record: RefreshRecord = codec::decode(&raw).map_err(Abortable::Abort)?;
            let family_key = record.family.to_key();
            let Some(raw_family) = families.get(family_key)? else {
                return Ok(RefreshOutcome::Invalid);
            };
            let mut family: Family = codec::decode(&raw_family).map_err(Abortable::Abort)?;
            if family.revoked || record.expires_at <= now {
                return Ok(RefreshOutcome::Invalid);
            }
            if record.used {
                if record.replays(new_hash, now, grace_seconds) {
                    return match refresh.get(new_hash)? {
                        Some(raw) => Ok(RefreshOutcome::Rotated(
                            codec::decode(&raw).map_err(Abortable::Abort)?,
                        )),
                        None => Ok(RefreshOutcome::Invalid),
                    };
                }
                family.revoked = true;
                families.insert(&family_key, codec::encode(&family))?;
                return Ok(RefreshOutcome::Reused);
            }
            record.used = true;
            record.rotation = Some(Rotation {
                at: now,
                successor: new_hash.to_vec(),
            });
            refresh.insert(old_hash, codec::encode(&record))?;
            let fresh = RefreshRecord {
                used: false,
                expires_at: new_expires_at,
                rotation: None,
                ..record.clone()
            };
            refresh.insert(new_hash, codec::encode(&fresh))?;
            Ok(RefreshOutcome::Rotated(fresh))
        })?;
        Ok(outcome)
    }

    fn revoke_refresh_family(&self, hash: &[u8]) -> Result<Option<UserId>, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let Some(raw) = t.refresh.get(hash)? else {
            return Ok(None);
        };
        let record: RefreshRecord = codec::decode(&raw)?;
        t.families.insert(
            record.family.to_key(),
            codec::encode(&Family {
                user_id: record.user_id,
                revoked: true,
            }),
        )?;
        Ok(Some(record.user_id))
    }

    fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.engine()?
            .trees
            .revoked_access
            .insert(jti.as_bytes(), &expires_at.to_be_bytes())?;
        Ok(())
    }

    fn token_user(&self, user: UserId, jti: &str) -> Result<Option<User>, StoreError> {
        if self.is_access_token_revoked(jti)? {
            return Ok(None);
        }
        self.user(user).map(Some)
    }

    fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self
            .engine()?
            .trees
            .revoked_access
            .contains_key(jti.as_bytes())?)
    }
}
