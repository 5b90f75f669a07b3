//! One instance of a deployment delivers webhooks and order emails: the one that holds a
//! session-level advisory lock on a connection of its own. Their cursors are in the database,
//! so whoever leads resumes where the last leader recorded its last attempt; when the leader
//! dies, PostgreSQL ends its session, frees the lock, and the next instance to ask takes over.
//! Between a leader losing its session and noticing (its next ask), a delivery may go out
//! twice: webhooks and emails are at least once, never lost.
use sqlx::{Connection, PgConnection};

use super::{error_of, Pg};
use crate::store::StoreError;

/// The advisory lock's key (any constant the application owns; "OSDL" in ASCII).
const DISPATCH_LOCK: i64 = 0x4F53_444C;
/// Held while an instance prepares the database at start ("OSSU").
const START_UP_LOCK: i64 = 0x4F53_5355;

/// Holds the start-up lock; dropping it closes its session, which frees the lock.
struct StartUpLock(#[allow(dead_code)] PgConnection);

/// The connection that holds (or keeps asking for) the lock.
#[derive(Default)]
pub(super) struct Leadership {
    connection: Option<PgConnection>,
    holds: bool,
}

impl Pg {
    /// Waits until no other instance is preparing the database (the configured admin, the
    /// demo catalog), and keeps them waiting until the answer is dropped: instances started
    /// together on an empty database would each create the admin or seed the catalog.
    pub(super) fn start_up_lock(&self) -> Result<Box<dyn Send>, StoreError> {
        let connection = self.wait_store(async {
            let mut connection = self.pool().acquire().await.map_err(error_of)?.detach();
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(START_UP_LOCK)
                .execute(&mut connection)
                .await
                .map_err(error_of)?;
            Ok(connection)
        })?;
        Ok(Box::new(StartUpLock(connection)))
    }

    /// Whether this process leads delivery now; asks for the lead if it does not.
    pub(super) fn leads(&self) -> bool {
        let mut leadership = self
            .inner
            .leadership
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let pool = self.pool().clone();
        let holds = leadership.holds;
        let outcome = self.wait_store(async {
            if let Some(connection) = leadership.connection.as_mut() {
                if holds {
                    // Still our session, so still our lock.
                    return Ok(connection.ping().await.is_ok());
                }
            } else {
                // Detached: a connection kept for good must not count against the pool.
                leadership.connection = Some(pool.acquire().await.map_err(error_of)?.detach());
            }
            let connection = leadership.connection.as_mut().expect("set above");
            sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                .bind(DISPATCH_LOCK)
                .fetch_one(connection)
                .await
                .map_err(error_of)
        });
        match outcome {
            Ok(true) => {
                if !leadership.holds {
                    tracing::info!("this instance now delivers webhooks and order emails");
                }
                leadership.holds = true;
                true
            }
            Ok(false) | Err(_) => {
                if leadership.holds {
                    tracing::warn!("this instance lost the lead of webhook and email delivery");
                }
                // A failed session may hold nothing any more: start afresh on the next ask.
                if outcome.is_err() || leadership.holds {
                    leadership.connection = None;
                }
                leadership.holds = false;
                false
            }
        }
    }
}
