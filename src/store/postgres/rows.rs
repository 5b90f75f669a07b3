//! Rows as domain values: the columns each read selects, and how they become a `Product`, a
//! `User`, an `Order`. A value the schema cannot hold (a negative stock) is `Corrupt`.
use sqlx::postgres::PgRow;
use sqlx::Row;

use crate::domain::catalog::{Category, Product};
use crate::domain::ids::{CategoryId, OrderId, ProductId, UserId};
use crate::domain::money::Money;
use crate::domain::order::{Order, OrderItem, OrderStatus, StatusChange};
use crate::domain::user::{Email, User};
use crate::store::StoreError;

pub const PRODUCT_COLUMNS: &str =
    "id, name, description, price_cents, stock, category_id, created_at, updated_at";

pub const USER_COLUMNS: &str = "id, email, password_hash, name, phone, address, is_admin, \
    token_version, date_joined, order_emails";

pub fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub fn id(raw: i64) -> u64 {
    raw as u64
}

/// A domain id as a column value (ids never pass i64::MAX).
pub fn key(raw: u64) -> i64 {
    raw as i64
}

pub fn product(row: &PgRow) -> Result<Product, StoreError> {
    let stock: i64 = row.try_get("stock").map_err(corrupt)?;
    Ok(Product {
        id: ProductId::new(id(row.try_get("id").map_err(corrupt)?)),
        name: row.try_get("name").map_err(corrupt)?,
        description: row.try_get("description").map_err(corrupt)?,
        price: Money::from_cents(row.try_get("price_cents").map_err(corrupt)?),
        stock: u32::try_from(stock).map_err(corrupt)?,
        category_id: CategoryId::new(id(row.try_get("category_id").map_err(corrupt)?)),
        created_at: row.try_get("created_at").map_err(corrupt)?,
        updated_at: row.try_get("updated_at").map_err(corrupt)?,
    })
}

pub fn category(row: &PgRow) -> Result<Category, StoreError> {
    Ok(Category {
        id: CategoryId::new(id(row.try_get("id").map_err(corrupt)?)),
        name: row.try_get("name").map_err(corrupt)?,
        description: row.try_get("description").map_err(corrupt)?,
    })
}

pub fn user(row: &PgRow) -> Result<User, StoreError> {
    let email: String = row.try_get("email").map_err(corrupt)?;
    let token_version: i32 = row.try_get("token_version").map_err(corrupt)?;
    Ok(User {
        id: UserId::new(id(row.try_get("id").map_err(corrupt)?)),
        email: Email::parse(&email).map_err(corrupt)?,
        password_hash: row.try_get("password_hash").map_err(corrupt)?,
        name: row.try_get("name").map_err(corrupt)?,
        phone: row.try_get("phone").map_err(corrupt)?,
        address: row.try_get("address").map_err(corrupt)?,
        is_admin: row.try_get("is_admin").map_err(corrupt)?,
        token_version: u32::try_from(token_version).map_err(corrupt)?,
        date_joined: row.try_get("date_joined").map_err(corrupt)?,
        order_emails: row.try_get("order_emails").map_err(corrupt)?,
    })
}

pub fn status(raw: &str) -> Result<OrderStatus, StoreError> {
    OrderStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == raw)
        .ok_or_else(|| corrupt(format!("order status {raw:?}")))
}

/// Orders from their rows: `orders` (id, user_id, status, created_at, updated_at), with every
/// line and step of those orders from `items` and `history` (any order), in the orders' order.
pub fn orders(
    orders: &[PgRow],
    items: &[PgRow],
    history: &[PgRow],
) -> Result<Vec<Order>, StoreError> {
    let mut out = Vec::with_capacity(orders.len());
    for row in orders {
        let order_id: i64 = row.try_get("id").map_err(corrupt)?;
        let status_text: String = row.try_get("status").map_err(corrupt)?;
        let mut lines: Vec<(i32, OrderItem)> = Vec::new();
        for item in items
            .iter()
            .filter(|r| r.try_get::<i64, _>("order_id").ok() == Some(order_id))
        {
            let quantity: i32 = item.try_get("quantity").map_err(corrupt)?;
            lines.push((
                item.try_get("line").map_err(corrupt)?,
                OrderItem {
                    product_id: ProductId::new(id(item.try_get("product_id").map_err(corrupt)?)),
                    name: item.try_get("name").map_err(corrupt)?,
                    unit_price: Money::from_cents(
                        item.try_get("unit_price_cents").map_err(corrupt)?,
                    ),
                    quantity: u32::try_from(quantity).map_err(corrupt)?,
                },
            ));
        }
        lines.sort_by_key(|(line, _)| *line);
        let mut steps: Vec<(i32, StatusChange)> = Vec::new();
        for step in history
            .iter()
            .filter(|r| r.try_get::<i64, _>("order_id").ok() == Some(order_id))
        {
            let raw: String = step.try_get("status").map_err(corrupt)?;
            steps.push((
                step.try_get("step").map_err(corrupt)?,
                StatusChange {
                    status: status(&raw)?,
                    at: step.try_get("at").map_err(corrupt)?,
                },
            ));
        }
        steps.sort_by_key(|(step, _)| *step);
        out.push(Order {
            id: OrderId::new(id(order_id)),
            user_id: UserId::new(id(row.try_get("user_id").map_err(corrupt)?)),
            status: status(&status_text)?,
            items: lines.into_iter().map(|(_, item)| item).collect(),
            history: steps.into_iter().map(|(_, step)| step).collect(),
            created_at: row.try_get("created_at").map_err(corrupt)?,
            updated_at: row.try_get("updated_at").map_err(corrupt)?,
        });
    }
    Ok(out)
}
