//! The rules of placing an order from a cart and of giving stock back, as pure functions. The
//! store reads what they need inside its transaction, applies what they decide and writes the
//! result, so every backend applies the same rules.
use time::OffsetDateTime;

use super::cart::Cart;
use super::catalog::Product;
use super::ids::{OrderId, UserId};
use super::order::{Order, OrderItem, OrderStatus, Shortage, StatusChange};

/// Why a cart cannot become an order. Either way nothing may be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    EmptyCart,
    /// Every line that cannot be filled, not only the first.
    Short(Vec<Shortage>),
}

/// A cart taken from stock: its products with their stock lowered, and the order's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub products: Vec<TakenProduct>,
    pub items: Vec<OrderItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenProduct {
    /// With its stock already lowered and `updated_at` set.
    pub product: Product,
    pub stock_before: u32,
}

/// Takes every line of `cart` from stock, or refuses the whole cart. `found[i]` is the product
/// of `cart.lines[i]` as it is now (`None`: deleted since it was added). The order's lines keep
/// the name and price of this moment, whatever happens to the product later.
pub fn take_from_stock(
    cart: &Cart,
    found: Vec<Option<Product>>,
    now: OffsetDateTime,
) -> Result<Taken, Refusal> {
    if cart.is_empty() {
        return Err(Refusal::EmptyCart);
    }
    let mut shortages = Vec::new();
    let mut taken = Taken {
        products: Vec::with_capacity(cart.lines.len()),
        items: Vec::with_capacity(cart.lines.len()),
    };
    for (line, product) in cart.lines.iter().zip(found) {
        let wanted = line.quantity.get();
        match product {
            Some(mut product) if product.stock >= wanted => {
                let stock_before = product.stock;
                product.stock -= wanted;
                product.updated_at = now;
                taken.items.push(OrderItem {
                    product_id: product.id,
                    name: product.name.clone(),
                    unit_price: product.price,
                    quantity: wanted,
                });
                taken.products.push(TakenProduct {
                    product,
                    stock_before,
                });
            }
            Some(product) => shortages.push(Shortage {
                product_id: product.id,
                requested: wanted,
                available: product.stock,
                name: product.name,
            }),
            None => shortages.push(Shortage {
                product_id: line.product_id,
                name: format!("product {}", line.product_id),
                requested: wanted,
                available: 0,
            }),
        }
    }
    match shortages.is_empty() {
        true => Ok(taken),
        false => Err(Refusal::Short(shortages)),
    }
}

impl Order {
    /// A new order: pending, with that as the first step of its history.
    pub fn placed(id: OrderId, user: UserId, items: Vec<OrderItem>, now: OffsetDateTime) -> Order {
        Order {
            id,
            user_id: user,
            status: OrderStatus::Pending,
            items,
            history: vec![StatusChange {
                status: OrderStatus::Pending,
                at: now,
            }],
            created_at: now,
            updated_at: now,
        }
    }
}

/// Whether moving an order to `next` gives its units back to stock (a cancellation does).
pub fn returns_stock(next: OrderStatus) -> bool {
    next == OrderStatus::Cancelled
}

/// Gives one order line's units back to its product. Stock is bounded, so a restock that
/// would pass the bound stops at it rather than wrapping.
pub fn restock(product: &mut Product, item: &OrderItem, now: OffsetDateTime) {
    product.stock = product.stock.saturating_add(item.quantity);
    product.updated_at = now;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cart::{CartLine, Quantity};
    use crate::domain::ids::{CategoryId, ProductId};
    use crate::domain::money::Money;

    fn product(id: u64, stock: u32) -> Product {
        Product {
            id: ProductId::new(id),
            name: format!("P{id}"),
            description: String::new(),
            price: Money::from_cents(250),
            stock,
            category_id: CategoryId::new(1),
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn cart(lines: &[(u64, u32)]) -> Cart {
        Cart {
            lines: lines
                .iter()
                .map(|&(id, q)| CartLine {
                    product_id: ProductId::new(id),
                    quantity: Quantity::parse(q as i64).unwrap(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_cart_that_fits_lowers_each_stock_and_keeps_the_price_of_the_moment() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::hours(1);
        let taken = take_from_stock(
            &cart(&[(1, 2), (2, 5)]),
            vec![Some(product(1, 2)), Some(product(2, 9))],
            now,
        )
        .unwrap();
        let stocks: Vec<(u32, u32)> = taken
            .products
            .iter()
            .map(|t| (t.stock_before, t.product.stock))
            .collect();
        assert_eq!(stocks, [(2, 0), (9, 4)]);
        assert!(taken.products.iter().all(|t| t.product.updated_at == now));
        assert_eq!(taken.items[1].quantity, 5);
        assert_eq!(taken.items[1].unit_price, Money::from_cents(250));
    }

    #[test]
    fn every_short_or_missing_line_is_named_and_nothing_is_taken() {
        let refused = take_from_stock(
            &cart(&[(1, 3), (2, 1), (3, 1)]),
            vec![Some(product(1, 2)), Some(product(2, 1)), None],
            OffsetDateTime::UNIX_EPOCH,
        );
        let Err(Refusal::Short(shortages)) = refused else {
            panic!("expected shortages, got {refused:?}");
        };
        let named: Vec<(u64, u32, u32)> = shortages
            .iter()
            .map(|s| (s.product_id.get(), s.requested, s.available))
            .collect();
        assert_eq!(named, [(1, 3, 2), (3, 1, 0)]);
    }

    #[test]
    fn an_empty_cart_is_refused() {
        let refused = take_from_stock(&Cart::default(), vec![], OffsetDateTime::UNIX_EPOCH);
        assert_eq!(refused, Err(Refusal::EmptyCart));
    }

    #[test]
    fn only_a_cancellation_gives_stock_back_and_never_past_the_bound() {
        assert!(returns_stock(OrderStatus::Cancelled));
        assert!(!returns_stock(OrderStatus::Shipped));
        let mut full = product(1, u32::MAX - 1);
        let item = OrderItem {
            product_id: full.id,
            name: full.name.clone(),
            unit_price: full.price,
            quantity: 5,
        };
        restock(&mut full, &item, OffsetDateTime::UNIX_EPOCH);
        assert_eq!(full.stock, u32::MAX);
    }
}
