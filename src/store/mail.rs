//! The order-email dispatcher's place in the event log, kept in `meta`: like a webhook's
//! cursor, written after each attempt, so a restart resumes where the last one left off.
use super::storage::MailStorage;
use super::{codec, Store, StoreError};
use crate::domain::webhook_delivery::DispatchState;

const KEY: &[u8] = b"mail_state";

impl MailStorage for Store {
    fn mail_state(&self) -> Result<Option<DispatchState>, StoreError> {
        match self.engine()?.trees.meta.get(KEY)? {
            Some(raw) => Ok(Some(codec::decode(&raw)?)),
            None => Ok(None),
        }
    }

    fn set_mail_state(&self, state: DispatchState) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.engine()?
            .trees
            .meta
            .insert(KEY, codec::encode(&state))?;
        Ok(())
    }

    fn clear_mail_state(&self) -> Result<(), StoreError> {
        let _writing = self.writing();
        self.engine()?.trees.meta.remove(KEY)?;
        Ok(())
    }
}
