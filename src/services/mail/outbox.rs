//! Walks the event log past the email cursor and sends each order event's email to the
//! order's owner, one at a time, on a thread of its own (a slow or dead mail server never
//! takes time from orders or live updates). The cursor moves only after a send succeeds or
//! its last attempt fails, and is flushed before the next one: a mail outage delays emails
//! (retried with the webhooks' backoff), a restart resumes where it stopped (at least once).
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use super::compose::order_email;
use super::Mailer;
use crate::domain::event::{LogEntry, OrderEvent};
use crate::domain::order::Order;
use crate::domain::user::User;
use crate::domain::webhook_delivery::{DispatchState, RetryPolicy};
use crate::store::{SharedStorage, StoreError};

/// How often an idle outbox looks at the log.
const POLL: Duration = Duration::from_millis(200);
/// Entries read at once while passing over those that need no email.
const BATCH: usize = 64;

/// Starts the outbox thread; it stops when `shutdown` turns true. Join it before closing the
/// database. Only called when mail is set up: otherwise nothing reads the log for emails.
pub fn start(
    store: SharedStorage,
    mailer: Mailer,
    retry: RetryPolicy,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    // The first run ever starts at the end of the log (emails are about what happens from now
    // on, not the shop's history), fixed before the server takes its first order.
    if store.mail_state().map_err(std::io::Error::other)?.is_none() {
        let end = store.last_event_id().map_err(std::io::Error::other)?;
        store
            .set_mail_state(DispatchState::starting_after(end))
            .map_err(std::io::Error::other)?;
    }
    std::thread::Builder::new()
        .name("order-emails".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => return tracing::error!(error = %e, "order emails did not start"),
            };
            let outbox = Outbox {
                store,
                mailer,
                retry,
            };
            runtime.block_on(async move {
                tokio::select! {
                    _ = outbox.run() => {}
                    _ = shutdown.wait_for(|stop| *stop) => {}
                }
            });
        })
}

struct Outbox {
    store: SharedStorage,
    mailer: Mailer,
    retry: RetryPolicy,
}

impl Outbox {
    async fn run(self) {
        loop {
            match self.step().await {
                Ok(true) => {}
                Ok(false) => tokio::time::sleep(POLL).await,
                Err(e) => {
                    tracing::error!(error = %e, "order emails stalled");
                    tokio::time::sleep(POLL * 5).await;
                }
            }
        }
    }

    /// The cursor (set by `start`; a database restored meanwhile may lack it: start at its end).
    fn state(&self) -> Result<DispatchState, StoreError> {
        if let Some(state) = self.store.mail_state()? {
            return Ok(state);
        }
        let start = DispatchState::starting_after(self.store.last_event_id()?);
        self.store.set_mail_state(start)?;
        Ok(start)
    }

    /// One attempt if one is due; false when there was nothing to do yet.
    async fn step(&self) -> Result<bool, StoreError> {
        // Another instance sends (several share the database): stand by.
        if !self.store.leads_delivery() {
            return Ok(false);
        }
        let state = self.state()?;
        let now = OffsetDateTime::now_utc();
        if let Some(at) = state.next_attempt_at.filter(|at| *at > now) {
            let wait = (at - now).try_into().unwrap_or(POLL).min(POLL);
            tokio::time::sleep(wait).await;
            return Ok(true);
        }
        let entries = self.store.log_after(state.cursor, BATCH)?;
        let mut next = None;
        for entry in &entries {
            if let LogEntry::Order(event) = entry {
                if let Some(found) = self.recipient(event)? {
                    next = Some((event, found));
                    break;
                }
            }
        }
        let Some((event, (user, order))) = next else {
            if let Some(last) = entries.last() {
                // Nothing to send in this stretch of the log: move past it.
                self.store
                    .set_mail_state(DispatchState::starting_after(last.id()))?;
                return Ok(true);
            }
            return Ok(false);
        };
        let sent = match order_email(self.mailer.settings(), &user, &order, event) {
            Ok(message) => self.mailer.send(message).await,
            Err(e) => {
                // Nothing a retry would change: say so and go on.
                tracing::error!(event = %event.id, error = %e, "order email could not be written");
                Ok(())
            }
        };
        let attempt = state.failures + 1;
        let done = DispatchState::starting_after(event.id);
        let next_state = match sent {
            Ok(()) => done,
            Err(e) => match self.retry.delay_after(attempt, rand::random::<f64>()) {
                Some(delay) => {
                    tracing::warn!(event = %event.id, attempt, error = %e, "order email not sent; will retry");
                    DispatchState {
                        cursor: state.cursor,
                        failures: attempt,
                        next_attempt_at: Some(OffsetDateTime::now_utc() + delay),
                    }
                }
                None => {
                    tracing::error!(event = %event.id, attempt, error = %e, "order email failed for good");
                    done
                }
            },
        };
        self.store.set_mail_state(next_state)?;
        // On disk before the next email: after a crash the cursor resumes from here.
        self.store.durable().await?;
        Ok(true)
    }

    /// The owner and the order when `event` calls for an email: the owner still exists and
    /// has not turned order emails off (asked at send time, so opting out stops queued ones).
    fn recipient(&self, event: &OrderEvent) -> Result<Option<(User, Order)>, StoreError> {
        let user = match self.store.user(event.user_id) {
            Ok(user) if user.order_emails => user,
            Ok(_) | Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        match self.store.order(event.order_id) {
            Ok(order) => Ok(Some((user, order))),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
