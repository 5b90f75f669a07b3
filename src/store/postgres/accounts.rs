//! Users, refresh-token families and revoked access tokens, and carts.
use sqlx::Row;

use super::rows::{self, corrupt, id, key, USER_COLUMNS};
use super::{error_of, Pg, Tx};
use crate::domain::ids::{FamilyId, UserId};
use crate::domain::user::{Email, User};
use crate::store::storage::{AccountStorage, TokenStorage};
use crate::store::{RefreshOutcome, RefreshRecord, Rotation, StoreError};

async fn write_user(tx: &mut Tx, user: &User, insert: bool) -> Result<(), StoreError> {
    let sql = match insert {
        true => {
            "INSERT INTO users (id, email, password_hash, name, phone, address, is_admin, \
                 token_version, date_joined, order_emails) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        }
        false => {
            "UPDATE users SET email = $2, password_hash = $3, name = $4, phone = $5, \
                  address = $6, is_admin = $7, token_version = $8, date_joined = $9, \
                  order_emails = $10 WHERE id = $1"
        }
    };
    sqlx::query(sql)
        .bind(key(user.id.get()))
        .bind(user.email.as_str())
        .bind(&user.password_hash)
        .bind(&user.name)
        .bind(&user.phone)
        .bind(&user.address)
        .bind(user.is_admin)
        .bind(i32::try_from(user.token_version).map_err(corrupt)?)
        .bind(user.date_joined)
        .bind(user.order_emails)
        .execute(&mut **tx)
        .await
        .map_err(error_of)?;
    Ok(())
}

impl AccountStorage for Pg {
    fn create_user(&self, draft: &dyn Fn(UserId) -> User) -> Result<User, StoreError> {
        self.transaction(async |tx| {
            let next: i64 =
                sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('users', 'id'))")
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(error_of)?;
            let user = draft(UserId::new(id(next)));
            write_user(tx, &user, true).await?;
            Ok(user)
        })
    }

    fn user(&self, user: UserId) -> Result<User, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = self.wait(
            sqlx::query(&sql)
                .bind(key(user.get()))
                .fetch_optional(self.pool()),
        )?;
        rows::user(&row.ok_or(StoreError::NotFound)?)
    }

    fn user_by_email(&self, email: &Email) -> Result<User, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1)");
        let row = self.wait(
            sqlx::query(&sql)
                .bind(email.as_str())
                .fetch_optional(self.pool()),
        )?;
        rows::user(&row.ok_or(StoreError::NotFound)?)
    }

    fn update_user(&self, user: UserId, change: &dyn Fn(&mut User)) -> Result<User, StoreError> {
        self.transaction(async |tx| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1 FOR UPDATE");
            let row = sqlx::query(&sql)
                .bind(key(user.get()))
                .fetch_optional(&mut **tx)
                .await
                .map_err(error_of)?
                .ok_or(StoreError::NotFound)?;
            let mut current = rows::user(&row)?;
            change(&mut current);
            current.id = user;
            write_user(tx, &current, false).await?;
            Ok(current)
        })
    }

    fn admin_count(&self) -> Result<usize, StoreError> {
        let count: i64 = self.wait(
            sqlx::query_scalar("SELECT count(*) FROM users WHERE is_admin").fetch_one(self.pool()),
        )?;
        Ok(count as usize)
    }
}

impl TokenStorage for Pg {
    fn prune_expired_tokens(&self, now: i64) -> Result<usize, StoreError> {
        self.transaction(async |tx| {
            let access = sqlx::query("DELETE FROM revoked_access_tokens WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut **tx)
                .await
                .map_err(error_of)?;
            let refresh = sqlx::query("DELETE FROM refresh_tokens WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut **tx)
                .await
                .map_err(error_of)?;
            // A family with no token left can never be presented again.
            sqlx::query(
                "DELETE FROM refresh_families f WHERE NOT EXISTS \
                 (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id)",
            )
            .execute(&mut **tx)
            .await
            .map_err(error_of)?;
            Ok((access.rows_affected() + refresh.rows_affected()) as usize)
        })
    }

    fn start_refresh_family(
        &self,
        hash: &[u8],
        user_id: UserId,
        token_version: u32,
        expires_at: i64,
    ) -> Result<RefreshRecord, StoreError> {
        self.transaction(async |tx| {
            let family: i64 = sqlx::query_scalar(
                "INSERT INTO refresh_families (user_id) VALUES ($1) RETURNING id",
            )
            .bind(key(user_id.get()))
            .fetch_one(&mut **tx)
            .await
            .map_err(error_of)?;
            sqlx::query(
                "INSERT INTO refresh_tokens (hash, family_id, user_id, token_version, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(hash)
            .bind(family)
            .bind(key(user_id.get()))
            .bind(token_version as i32)
            .bind(expires_at)
            .execute(&mut **tx)
            .await
            .map_err(error_of)?;
            Ok(RefreshRecord {
                user_id,
                family: FamilyId::new(id(family)),
                token_version,
                expires_at,
                used: false,
                rotation: None,
            })
        })
    }

    fn rotate_refresh(
        &self,
        old_hash: &[u8],
        new_hash: &[u8],
        now: i64,
        new_expires_at: i64,
        grace_seconds: i64,
    ) -> Result<RefreshOutcome, StoreError> {
        self.transaction(async |tx| {
            // The family row is locked first: two rotations of one family take turns, so a
            // token is spent once and the second presenter is caught as a reuse.
            let found = sqlx::query(
                "SELECT t.family_id, t.user_id, t.token_version, t.expires_at, t.used, \
                 t.rotated_at, t.successor, f.revoked \
                 FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id \
                 WHERE t.hash = $1 FOR UPDATE OF f, t",
            )
            .bind(old_hash)
            .fetch_optional(&mut **tx)
            .await
            .map_err(error_of)?;
            let Some(row) = found else {
                return Ok(RefreshOutcome::Invalid);
            };
            let family: i64 = row.try_get("family_id").map_err(corrupt)?;
            let expires_at: i64 = row.try_get("expires_at").map_err(corrupt)?;
            let revoked: bool = row.try_get("revoked").map_err(corrupt)?;
            if revoked || expires_at <= now {
                return Ok(RefreshOutcome::Invalid);
            }
            let token_version: i32 = row.try_get("token_version").map_err(corrupt)?;
            let user: i64 = row.try_get("user_id").map_err(corrupt)?;
            if row.try_get::<bool, _>("used").map_err(corrupt)? {
                let rotated_at: Option<i64> = row.try_get("rotated_at").map_err(corrupt)?;
                let successor: Option<Vec<u8>> = row.try_get("successor").map_err(corrupt)?;
                let spent = RefreshRecord {
                    user_id: UserId::new(id(user)),
                    family: FamilyId::new(id(family)),
                    token_version: token_version as u32,
                    expires_at,
                    used: true,
                    rotation: rotated_at
                        .zip(successor)
                        .map(|(at, successor)| Rotation { at, successor }),
                };
                if spent.replays(new_hash, now, grace_seconds) {
                    let next =
                        sqlx::query("SELECT expires_at, used FROM refresh_tokens WHERE hash = $1")
                            .bind(new_hash)
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(error_of)?;
                    let Some(next) = next else {
                        return Ok(RefreshOutcome::Invalid);
                    };
                    return Ok(RefreshOutcome::Rotated(RefreshRecord {
                        expires_at: next.try_get("expires_at").map_err(corrupt)?,
                        used: next.try_get("used").map_err(corrupt)?,
                        rotation: None,
                        ..spent
                    }));
                }
                sqlx::query("UPDATE refresh_families SET revoked = true WHERE id = $1")
                    .bind(family)
                    .execute(&mut **tx)
                    .await
                    .map_err(error_of)?;
                return Ok(RefreshOutcome::Reused);
            }
            sqlx::query(
                "UPDATE refresh_tokens SET used = true, rotated_at = $2, successor = $3 \
                 WHERE hash = $1",
            )
            .bind(old_hash)
            .bind(now)
            .bind(new_hash)
            .execute(&mut **tx)
            .await
            .map_err(error_of)?;
            sqlx::query(
                "INSERT INTO refresh_tokens (hash, family_id, user_id, token_version, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(new_hash)
            .bind(family)
            .bind(user)
            .bind(token_version)
            .bind(new_expires_at)
            .execute(&mut **tx)
            .await
            .map_err(error_of)?;
            Ok(RefreshOutcome::Rotated(RefreshRecord {
                user_id: UserId::new(id(user)),
                family: FamilyId::new(id(family)),
                token_version: token_version as u32,
                expires_at: new_expires_at,
                used: false,
                rotation: None,
            }))
        })
    }

    fn revoke_refresh_family(&self, hash: &[u8]) -> Result<Option<UserId>, StoreError> {
        let user: Option<i64> = self.wait(
            sqlx::query_scalar(
                "UPDATE refresh_families f SET revoked = true FROM refresh_tokens t \
                 WHERE t.hash = $1 AND f.id = t.family_id RETURNING f.user_id",
            )
            .bind(hash)
            .fetch_optional(self.pool()),
        )?;
        Ok(user.map(|u| UserId::new(id(u))))
    }

    fn revoke_access_token(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        self.wait(
            sqlx::query(
                "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (jti) DO UPDATE SET expires_at = EXCLUDED.expires_at",
            )
            .bind(jti)
            .bind(expires_at)
            .execute(self.pool()),
        )?;
        Ok(())
    }

    fn token_user(&self, user: UserId, jti: &str) -> Result<Option<User>, StoreError> {
        self.wait_store(self.read_token_user(user, jti))
    }

    fn is_access_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        self.wait(
            sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = $1)",
            )
            .bind(jti)
            .fetch_one(self.pool()),
        )
    }
}

impl Pg {
    pub(super) async fn read_token_user(
        &self,
        user: UserId,
        jti: &str,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = $2) \
             AS revoked FROM users WHERE id = $1"
        );
        let row = self.noted(
            sqlx::query(&sql)
                .bind(key(user.get()))
                .bind(jti)
                .fetch_optional(self.pool())
                .await,
            error_of,
        )?;
        let row = row.ok_or(StoreError::NotFound)?;
        match row.try_get::<bool, _>("revoked").map_err(corrupt)? {
            true => Ok(None),
            false => rows::user(&row).map(Some),
        }
    }
}
