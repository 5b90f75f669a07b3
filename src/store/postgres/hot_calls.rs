//! The busiest calls answered on the pool's own I/O (see `HotCalls`): the awaiting task polls
//! the query itself, so a round trip wakes that task once, instead of waking a blocking thread
//! that then wakes the task.
use std::sync::Arc;

use super::Pg;
use crate::domain::cart::Cart;
use crate::domain::catalog::Product;
use crate::domain::ids::{ProductId, UserId};
use crate::domain::user::User;
use crate::store::storage::{CartChange, HotCalls, Pending};

impl HotCalls for Pg {
    fn token_user_soon(self: Arc<Self>, user: UserId, jti: String) -> Pending<Option<User>> {
        let pg = Pg::clone(&self);
        pg.soon(async move { self.read_token_user(user, &jti).await })
    }

    fn add_to_cart_soon(
        self: Arc<Self>,
        user: UserId,
        product: ProductId,
        change: CartChange,
    ) -> Pending<(Product, Cart)> {
        let pg = Pg::clone(&self);
        pg.soon(async move { self.add_to_cart(user, product, &*change).await })
    }
}
