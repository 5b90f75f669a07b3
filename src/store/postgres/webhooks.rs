//! Webhooks (each a record edited as a whole, with its dispatch cursor beside it), the log of
//! their delivery attempts, and the order-email cursor.
use time::OffsetDateTime;

use super::rows::{corrupt, id, key};
use super::{error_of, Pg};
use crate::domain::ids::{DeliveryId, WebhookId};
use crate::domain::webhook::{Webhook, WebhookDraft, WebhookSecret};
use crate::domain::webhook_delivery::{Delivery, DispatchState};
use crate::store::storage::{EventStorage, MailStorage, WebhookStorage};
use crate::store::{DeliveryPage, StoreError};

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(corrupt)
}

fn parsed<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(corrupt)
}

impl WebhookStorage for Pg {
    fn create_webhook(
        &self,
        draft: WebhookDraft,
        secret: WebhookSecret,
        created_at: OffsetDateTime,
    ) -> Result<Webhook, StoreError> {
        let start = DispatchState::starting_after(self.last_event_id()?);
        self.transaction(async |tx| {
            let next: i64 =
                sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('webhooks', 'id'))")
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(error_of)?;
            let hook = Webhook {
                id: WebhookId::new(id(next)),
                url: draft.url,
                events: draft.events,
                active: draft.active,
                description: draft.description,
                parallel: draft.parallel,
                secret,
                created_at,
            };
            sqlx::query(
                "INSERT INTO webhooks (id, record, state) VALUES ($1, $2::jsonb, $3::jsonb)",
            )
            .bind(next)
            .bind(json(&hook)?)
            .bind(json(&start)?)
            .execute(&mut **tx)
            .await
            .map_err(error_of)?;
            Ok(hook)
        })
    }

    fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let records: Vec<String> = self.wait(
            sqlx::query_scalar("SELECT record::text FROM webhooks ORDER BY id")
                .fetch_all(self.pool()),
        )?;
        records.iter().map(|r| parsed(r)).collect()
    }

    fn webhook(&self, hook: WebhookId) -> Result<Webhook, StoreError> {
        let record: Option<String> = self.wait(
            sqlx::query_scalar("SELECT record::text FROM webhooks WHERE id = $1")
                .bind(key(hook.get()))
                .fetch_optional(self.pool()),
        )?;
        parsed(&record.ok_or(StoreError::NotFound)?)
    }

    fn update_webhook(
        &self,
        hook: WebhookId,
        change: &dyn Fn(&mut Webhook),
    ) -> Result<Webhook, StoreError> {
        self.transaction(async |tx| {
            let record: Option<String> =
                sqlx::query_scalar("SELECT record::text FROM webhooks WHERE id = $1 FOR UPDATE")
                    .bind(key(hook.get()))
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(error_of)?;
            let mut webhook: Webhook = parsed(&record.ok_or(StoreError::NotFound)?)?;
            change(&mut webhook);
            sqlx::query("UPDATE webhooks SET record = $2::jsonb WHERE id = $1")
                .bind(key(hook.get()))
                .bind(json(&webhook)?)
                .execute(&mut **tx)
                .await
                .map_err(error_of)?;
            Ok(webhook)
        })
    }

    fn delete_webhook(&self, hook: WebhookId) -> Result<(), StoreError> {
        // The delivery log goes with it (ON DELETE CASCADE).
        let done = self.wait(
            sqlx::query("DELETE FROM webhooks WHERE id = $1")
                .bind(key(hook.get()))
                .execute(self.pool()),
        )?;
        match done.rows_affected() {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    fn dispatch_state(&self, hook: WebhookId) -> Result<DispatchState, StoreError> {
        let state: Option<String> = self.wait(
            sqlx::query_scalar("SELECT state::text FROM webhooks WHERE id = $1")
                .bind(key(hook.get()))
                .fetch_optional(self.pool()),
        )?;
        parsed(&state.ok_or(StoreError::NotFound)?)
    }

    fn record_delivery(
        &self,
        delivery: &Delivery,
        next_state: Option<DispatchState>,
    ) -> Result<Delivery, StoreError> {
        self.transaction(async |tx| {
            let hook = key(delivery.webhook_id.get());
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM webhooks WHERE id = $1 FOR UPDATE")
                .bind(hook)
                .fetch_optional(&mut **tx)
                .await
                .map_err(error_of)?;
            exists.ok_or(StoreError::NotFound)?;
            let next: i64 = sqlx::query_scalar("SELECT nextval('webhook_delivery_ids')")
                .fetch_one(&mut **tx)
                .await
                .map_err(error_of)?;
            let mut stored = delivery.clone();
            stored.id = DeliveryId::new(id(next));
            sqlx::query("INSERT INTO webhook_deliveries (webhook_id, id, record) VALUES ($1, $2, $3::jsonb)")
                .bind(hook)
                .bind(next)
                .bind(json(&stored)?)
                .execute(&mut **tx)
                .await
                .map_err(error_of)?;
            if let Some(state) = next_state {
                sqlx::query("UPDATE webhooks SET state = $2::jsonb WHERE id = $1")
                    .bind(hook)
                    .bind(json(&state)?)
                    .execute(&mut **tx)
                    .await
                    .map_err(error_of)?;
            }
            Ok(stored)
        })
    }

    fn set_dispatch_state(&self, hook: WebhookId, next: DispatchState) -> Result<(), StoreError> {
        let done = self.wait(
            sqlx::query("UPDATE webhooks SET state = $2::jsonb WHERE id = $1")
                .bind(key(hook.get()))
                .bind(json(&next)?)
                .execute(self.pool()),
        )?;
        match done.rows_affected() {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    fn delivery(&self, hook: WebhookId, delivery: DeliveryId) -> Result<Delivery, StoreError> {
        let record: Option<String> = self.wait(
            sqlx::query_scalar(
                "SELECT record::text FROM webhook_deliveries WHERE webhook_id = $1 AND id = $2",
            )
            .bind(key(hook.get()))
            .bind(key(delivery.get()))
            .fetch_optional(self.pool()),
        )?;
        parsed(&record.ok_or(StoreError::NotFound)?)
    }

    fn prune_deliveries(&self, keep: usize) -> Result<usize, StoreError> {
        let done = self.wait(
            sqlx::query(
                "DELETE FROM webhook_deliveries d USING (SELECT webhook_id, id, row_number() OVER \
                 (PARTITION BY webhook_id ORDER BY id DESC) AS newest FROM webhook_deliveries) r \
                 WHERE d.webhook_id = r.webhook_id AND d.id = r.id AND r.newest > $1",
            )
            .bind(keep as i64)
            .execute(self.pool()),
        )?;
        Ok(done.rows_affected() as usize)
    }

    fn deliveries(
        &self,
        hook: WebhookId,
        offset: u64,
        limit: u64,
    ) -> Result<DeliveryPage, StoreError> {
        let hook = key(hook.get());
        let count: i64 = self.wait(
            sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries WHERE webhook_id = $1")
                .bind(hook)
                .fetch_one(self.pool()),
        )?;
        let records: Vec<String> = self.wait(
            sqlx::query_scalar(
                "SELECT record::text FROM webhook_deliveries WHERE webhook_id = $1 \
                 ORDER BY id DESC OFFSET $2 LIMIT $3",
            )
            .bind(hook)
            .bind(offset.min(i64::MAX as u64) as i64)
            .bind(limit.min(i64::MAX as u64) as i64)
            .fetch_all(self.pool()),
        )?;
        Ok(DeliveryPage {
            count: count as u64,
            deliveries: records
                .iter()
                .map(|r| parsed(r))
                .collect::<Result<_, _>>()?,
        })
    }
}

impl MailStorage for Pg {
    fn mail_state(&self) -> Result<Option<DispatchState>, StoreError> {
        let state: Option<String> = self
            .wait(sqlx::query_scalar("SELECT mail_state::text FROM meta").fetch_one(self.pool()))?;
        state.as_deref().map(parsed).transpose()
    }

    fn set_mail_state(&self, state: DispatchState) -> Result<(), StoreError> {
        self.wait(
            sqlx::query("UPDATE meta SET mail_state = $1::jsonb")
                .bind(json(&state)?)
                .execute(self.pool()),
        )?;
        Ok(())
    }

    fn clear_mail_state(&self) -> Result<(), StoreError> {
        self.wait(sqlx::query("UPDATE meta SET mail_state = NULL").execute(self.pool()))?;
        Ok(())
    }
}
