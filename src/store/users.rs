use sled::transaction::ConflictableTransactionError as Abortable;
use sled::Transactional;

use super::storage::AccountStorage;
use super::{codec, next_id, Store, StoreError};
use crate::domain::ids::UserId;
use crate::domain::user::{Email, User};

impl AccountStorage for Store {
    fn create_user(&self, draft: &dyn Fn(UserId) -> User) -> Result<User, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let user = (&t.meta, &t.users, &t.emails).transaction(|(meta, users, emails)| {
            let id = UserId::new(next_id(meta, "user")?);
            let user = draft(id);
            if emails.get(user.email.as_str())?.is_some() {
                return Err(Abortable::Abort(StoreError::Conflict(
                    "a user with that email already exists".into(),
                )));
            }
            emails.insert(user.email.as_str(), &id.to_key())?;
            users.insert(&id.to_key(), codec::encode(&user))?;
            Ok(user)
        })?;
        Ok(user)
    }

    fn user(&self, id: UserId) -> Result<User, StoreError> {
        let raw = self
            .engine()?
            .trees
            .users
            .get(id.to_key())?
            .ok_or(StoreError::NotFound)?;
        codec::decode(&raw)
    }

    fn user_by_email(&self, email: &Email) -> Result<User, StoreError> {
        let raw = self
            .engine()?
            .trees
            .emails
            .get(email.as_str())?
            .ok_or(StoreError::NotFound)?;
        let id = UserId::from_key(&raw).ok_or_else(|| StoreError::Corrupt("email index".into()))?;
        self.user(id)
    }

    fn update_user(&self, id: UserId, change: &dyn Fn(&mut User)) -> Result<User, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let users = &engine.trees.users;
        let user = users.transaction(|users| {
            let raw = users
                .get(id.to_key())?
                .ok_or(Abortable::Abort(StoreError::NotFound))?;
            let mut user: User = codec::decode(&raw).map_err(Abortable::Abort)?;
            change(&mut user);
            users.insert(&id.to_key(), codec::encode(&user))?;
            Ok(user)
        })?;
        Ok(user)
    }

    fn admin_count(&self) -> Result<usize, StoreError> {
        let mut admins = 0;
        for entry in self.engine()?.trees.users.iter() {
            let (_, raw) = entry?;
            let user: User = codec::decode(&raw)?;
            admins += user.is_admin as usize;
        }
        Ok(admins)
    }
}
