use sled::transaction::ConflictableTransactionError as Abortable;

use super::{codec, Store, StoreError};
use crate::domain::cart::Cart;
use crate::domain::ids::UserId;

impl Store {
    pub fn cart(&self, user: UserId) -> Result<Cart, StoreError> {
        match self.inner.trees.carts.get(user.to_key())? {
            Some(raw) => codec::decode(&raw),
            None => Ok(Cart::default()),
        }
    }

    /// Read-modify-write of a cart; `change` may refuse, and then nothing is written.
    pub fn update_cart<E: Into<StoreError>>(
        &self,
        user: UserId,
        change: impl Fn(&mut Cart) -> Result<(), E>,
    ) -> Result<Cart, StoreError> {
        let cart = self.inner.trees.carts.transaction(|carts| {
            let mut cart: Cart = match carts.get(user.to_key())? {
                Some(raw) => codec::decode(&raw).map_err(Abortable::Abort)?,
                None => Cart::default(),
            };
            change(&mut cart).map_err(|e| Abortable::Abort(e.into()))?;
            carts.insert(&user.to_key(), codec::encode(&cart))?;
            Ok(cart)
        })?;
        Ok(cart)
    }
}
