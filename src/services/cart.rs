//! The caller's cart: lines with current prices and stock. It reserves nothing.
use super::blocking;
use super::json::{CartJson, CartLineJson, CartProductJson};
use crate::domain::cart::{Cart, CartError, Quantity};
use crate::domain::catalog::Product;
use crate::domain::ids::{ProductId, UserId};
use crate::domain::money::Money;
use crate::error::AppError;
use crate::store::{CartChange, SharedStorage, StoreError};

#[derive(Clone)]
pub struct Carts {
    store: SharedStorage,
}

/// A cart joined with the products it names (lines of deleted products are left out).
#[derive(Debug, Clone)]
pub struct CartView {
    pub lines: Vec<(Product, u32)>,
}

impl CartView {
    pub fn total(&self) -> Money {
        self.lines
            .iter()
            .fold(Money::ZERO, |sum, (p, q)| sum.plus(p.price.times(*q)))
    }

    pub fn to_json(&self) -> CartJson {
        CartJson {
            items: self
                .lines
                .iter()
                .map(|(p, q)| CartLineJson {
                    product: CartProductJson {
                        id: p.id.get(),
                        name: p.name.clone(),
                        price: p.price,
                        stock: p.stock,
                    },
                    quantity: *q,
                    line_total: p.price.times(*q),
                })
                .collect(),
            total: self.total(),
        }
    }

    pub fn quantity(&self) -> u32 {
        self.lines.iter().map(|(_, q)| q).sum()
    }
}

impl From<CartError> for StoreError {
    fn from(e: CartError) -> Self {
        match e {
            CartError::NoSuchLine => StoreError::NotFound,
            other => StoreError::Conflict(other.to_string()),
        }
    }
}

/// The cart's lines with their products; lines of products not in `products` (deleted) are
/// left out.
fn lines_of(cart: &Cart, products: Vec<Product>) -> CartView {
    let lines = cart
        .lines
        .iter()
        .filter_map(|line| {
            let product = products.iter().find(|p| p.id == line.product_id)?;
            Some((product.clone(), line.quantity.get()))
        })
        .collect();
    CartView { lines }
}

fn cart_error(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(message) => AppError::field("quantity", &message),
        other => other.into(),
    }
}

impl Carts {
    pub fn new(store: SharedStorage) -> Carts {
        Carts { store }
    }

    /// Runs `work` on the blocking pool: every cart operation reads or writes the store.
    async fn off_worker<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Carts) -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let carts = self.clone();
        blocking(move || work(&carts)).await
    }

    pub async fn view(&self, user: UserId) -> Result<CartView, AppError> {
        self.off_worker(move |carts| carts.join(&carts.store.cart(user)?))
            .await
    }

    fn join(&self, cart: &Cart) -> Result<CartView, AppError> {
        let ids: Vec<ProductId> = cart.lines.iter().map(|l| l.product_id).collect();
        Ok(lines_of(cart, self.store.products(&ids)?))
    }

    /// Adds to the product's line (or starts one). Unknown product: 404.
    pub async fn add(
        &self,
        user: UserId,
        product: ProductId,
        quantity: Quantity,
    ) -> Result<CartView, AppError> {
        // A hot call (`HotCalls`): the busiest write of a shopper.
        let change: CartChange = Box::new(move |cart| Ok(cart.add(product, quantity)?));
        let (added, cart) = self
            .store
            .clone()
            .add_to_cart_soon(user, product, change)
            .await
            .map_err(cart_error)?;
        // Only the other lines' products are read again (none, for a cart of one product).
        let others: Vec<ProductId> = cart
            .lines
            .iter()
            .map(|l| l.product_id)
            .filter(|id| *id != product)
            .collect();
        let mut products = match others.is_empty() {
            true => Vec::new(),
            false => {
                let store = self.store.clone();
                blocking(move || Ok(store.products(&others)?)).await?
            }
        };
        products.push(added);
        Ok(lines_of(&cart, products))
    }

    pub async fn set(
        &self,
        user: UserId,
        product: ProductId,
        quantity: Quantity,
    ) -> Result<CartView, AppError> {
        self.off_worker(move |carts| {
            let cart = carts
                .store
                .update_cart(user, &|cart| Ok(cart.set(product, quantity)?))
                .map_err(cart_error)?;
            carts.join(&cart)
        })
        .await
    }

    pub async fn remove(&self, user: UserId, product: ProductId) -> Result<CartView, AppError> {
        self.off_worker(move |carts| {
            let cart = carts
                .store
                .update_cart(user, &|cart| Ok(cart.remove(product)?))
                .map_err(cart_error)?;
            carts.join(&cart)
        })
        .await
    }

    pub async fn clear(&self, user: UserId) -> Result<(), AppError> {
        self.off_worker(move |carts| {
            carts.store.update_cart(user, &|cart| {
                *cart = Cart::default();
                Ok(())
            })?;
            Ok(())
        })
        .await
    }

    /// Adds a guest cart's lines to the user's cart in one write, capped by the server's limits.
    /// Lines naming unknown products, bad quantities, or past the line limit are skipped and
    /// returned; prices and stock always come from the store, never from the caller.
    pub async fn merge(
        &self,
        user: UserId,
        lines: Vec<(ProductId, i64)>,
    ) -> Result<(CartView, Vec<ProductId>), AppError> {
        self.off_worker(move |carts| carts.merge_now(user, &lines))
            .await
    }

    fn merge_now(
        &self,
        user: UserId,
        lines: &[(ProductId, i64)],
    ) -> Result<(CartView, Vec<ProductId>), AppError> {
        let ids: Vec<ProductId> = lines.iter().map(|(p, _)| *p).collect();
        let existing: Vec<ProductId> = self.store.products(&ids)?.iter().map(|p| p.id).collect();
        let max =
            Quantity::parse(crate::domain::cart::MAX_LINE_QUANTITY as i64).expect("max is valid");
        let skipped = std::cell::RefCell::new(Vec::new());
        let cart = self.store.update_cart(user, &|cart| {
            let mut skipped = skipped.borrow_mut();
            skipped.clear();
            for (product, quantity) in lines {
                let added = match Quantity::parse(*quantity) {
                    Ok(q) if existing.contains(product) => match cart.add(*product, q) {
                        // Over the per-line cap: keep the most a line may hold.
                        Err(CartError::LineTooLarge) => cart.set(*product, max),
                        other => other,
                    },
                    _ => Err(CartError::NoSuchLine),
                };
                if added.is_err() {
                    skipped.push(*product);
                }
            }
            Ok(())
        })?;
        Ok((self.join(&cart)?, skipped.into_inner()))
    }
}
