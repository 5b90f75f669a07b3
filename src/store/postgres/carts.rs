//! Carts on PostgreSQL: a read, then one conditional write (no transaction, no row lock).
//! A cart write costs two round trips instead of six (BEGIN, lock, insert the missing row,
//! lock again, update, COMMIT), and an order in between is seen as a changed version (an
//! order empties the row and moves its version on).
use sqlx::Row;

use super::rows::{self, corrupt, key, PRODUCT_COLUMNS};
use super::{error_of, error_or_missing_reference, Pg};
use crate::domain::cart::Cart;
use crate::domain::catalog::Product;
use crate::domain::ids::{ProductId, UserId};
use crate::store::storage::CartStorage;
use crate::store::StoreError;

/// A writer that keeps losing the race this many times in a row is answered 503 (retryable);
/// two tabs of one shopper meet once or twice at most.
const MAX_ATTEMPTS: usize = 32;

impl Pg {
    /// The stored cart and its version; `None` when the user has no cart row.
    async fn stored_cart(&self, user: UserId) -> Result<Option<(Cart, i64)>, StoreError> {
        let row: Option<(String, i64)> = self.noted(
            sqlx::query_as("SELECT lines::text, version FROM carts WHERE user_id = $1")
                .bind(key(user.get()))
                .fetch_optional(self.pool())
                .await,
            error_of,
        )?;
        row.map(|(lines, version)| Ok((serde_json::from_str(&lines).map_err(corrupt)?, version)))
            .transpose()
    }

    /// Writes `cart` if the row is still at `version` (or, for `None`, still missing); false
    /// when another write got there first. A user that does not exist is `NotFound`.
    async fn write_cart_if(
        &self,
        user: UserId,
        cart: &Cart,
        version: Option<i64>,
    ) -> Result<bool, StoreError> {
        let lines = serde_json::to_string(cart).map_err(corrupt)?;
        // The relaxed pool: a cart is not acknowledged as durable (on sled neither), so its
        // commit does not wait for the WAL flush. It is still atomic; a crash may lose the last
        // fraction of a second of cart changes, never an order (placements commit synchronously).
        let written = match version {
            Some(version) => self.noted(
                sqlx::query(
                    "UPDATE carts SET lines = $2::jsonb, version = version + 1 \
                     WHERE user_id = $1 AND version = $3",
                )
                .bind(key(user.get()))
                .bind(lines)
                .bind(version)
                .execute(self.relaxed_pool())
                .await,
                error_of,
            )?,
            None => self.noted(
                sqlx::query(
                    "INSERT INTO carts (user_id, lines) VALUES ($1, $2::jsonb) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(key(user.get()))
                .bind(lines)
                .execute(self.relaxed_pool())
                .await,
                |e| error_or_missing_reference(e, StoreError::NotFound),
            )?,
        };
        Ok(written.rows_affected() == 1)
    }

    /// Read, change, conditional write; again from the read when another write came first.
    pub(super) async fn change_cart<F>(&self, user: UserId, change: &F) -> Result<Cart, StoreError>
    where
        F: Fn(&mut Cart) -> Result<(), StoreError> + ?Sized,
    {
        for _ in 0..MAX_ATTEMPTS {
            let (mut cart, version) = match self.stored_cart(user).await? {
                Some((cart, version)) => (cart, Some(version)),
                None => (Cart::default(), None),
            };
            change(&mut cart)?;
            if self.write_cart_if(user, &cart, version).await? {
                return Ok(cart);
            }
        }
        Err(StoreError::Unavailable)
    }
}

impl Pg {
    /// The product, then the cart changed: the product and the cart are read in one statement,
    /// so adding to a cart costs two round trips (again from the cart alone on a lost race).
    pub(super) async fn add_to_cart<F>(
        &self,
        user: UserId,
        product: ProductId,
        change: &F,
    ) -> Result<(Product, Cart), StoreError>
    where
        F: Fn(&mut Cart) -> Result<(), StoreError> + ?Sized,
    {
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS}, c.lines::text AS cart_lines, c.version AS cart_version \
             FROM products LEFT JOIN carts c ON c.user_id = $1 WHERE id = $2"
        );
        let row = self.noted(
            sqlx::query(&sql)
                .bind(key(user.get()))
                .bind(key(product.get()))
                .fetch_optional(self.pool())
                .await,
            error_of,
        )?;
        let row = row.ok_or(StoreError::NotFound)?;
        let found = rows::product(&row)?;
        let lines: Option<String> = row.try_get("cart_lines").map_err(corrupt)?;
        let version: Option<i64> = row.try_get("cart_version").map_err(corrupt)?;
        let mut cart = match &lines {
            Some(lines) => serde_json::from_str(lines).map_err(corrupt)?,
            None => Cart::default(),
        };
        change(&mut cart)?;
        if self.write_cart_if(user, &cart, version).await? {
            return Ok((found, cart));
        }
        Ok((found, self.change_cart(user, change).await?))
    }
}

impl CartStorage for Pg {
    fn cart(&self, user: UserId) -> Result<Cart, StoreError> {
        let stored = self.wait_store(self.stored_cart(user))?;
        Ok(stored.map(|(cart, _)| cart).unwrap_or_default())
    }

    fn update_cart(
        &self,
        user: UserId,
        change: &dyn Fn(&mut Cart) -> Result<(), StoreError>,
    ) -> Result<Cart, StoreError> {
        self.wait_store(self.change_cart(user, change))
    }
}
