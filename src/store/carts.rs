use super::storage::CartStorage;
use super::{codec, Store, StoreError};
use crate::domain::cart::Cart;
use crate::domain::ids::UserId;

impl CartStorage for Store {
    fn cart(&self, user: UserId) -> Result<Cart, StoreError> {
        match self.engine()?.trees.carts.get(user.to_key())? {
            Some(raw) => codec::decode(&raw),
            None => Ok(Cart::default()),
        }
    }

    fn update_cart(
        &self,
        user: UserId,
        change: &dyn Fn(&mut Cart) -> Result<(), StoreError>,
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
            change(&mut cart)?;
            if carts
                .compare_and_swap(key, current, Some(codec::encode(&cart)))?
                .is_ok()
            {
                return Ok(cart);
            }
        }
    }
}
