use super::{codec, Store, StoreError};
use crate::domain::cart::Cart;
use crate::domain::ids::UserId;

impl Store {
    pub fn cart(&self, user: UserId) -> Result<Cart, StoreError> {
        match self.engine()?.trees.carts.get(user.to_key())? {
            Some(raw) => codec::decode(&raw),
            None => Ok(Cart::default()),
        }
    }

    /// Read-modify-write of a cart as one compare-and-swap on its key, retried when another
    /// write got there first. A single-key swap needs no multi-tree transaction (whose fixed
    /// commit cost is the price of placing an order), and sled orders it against those
    /// transactions, so an order sees the cart either before or after the change. `change`
    /// may refuse, and then nothing is written.
    pub fn update_cart<E: Into<StoreError>>(
        &self,
        user: UserId,
        change: impl Fn(&mut Cart) -> Result<(), E>,
    ) -> Result<Cart, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let carts = &engine.trees.carts;
        let key = user.to_key();
        loop {
            let current = carts.get(key)?;
            let mut cart: Cart = match &current {
                Some(raw) => codec::decode(raw)?,
                None => Cart::default(),
            };
            change(&mut cart).map_err(Into::into)?;
            if carts
                .compare_and_swap(key, current, Some(codec::encode(&cart)))?
                .is_ok()
            {
                return Ok(cart);
            }
        }
    }
}
