//! The API's JSON shapes (API.md). Services produce them so cached bytes and fresh answers match.
use serde::Serialize;
use time::OffsetDateTime;

use crate::domain::catalog::{Category, Product};
use crate::domain::event::OrderEvent;
use crate::domain::money::Money;
use crate::domain::order::{Order, OrderStatus};
use crate::domain::user::User;

fn rfc3339(t: &OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[derive(Serialize)]
pub struct UserJson {
    pub id: u64,
    pub email: String,
    pub name: String,
    pub phone: String,
    pub address: String,
    pub is_admin: bool,
    pub date_joined: String,
}

impl From<&User> for UserJson {
    fn from(u: &User) -> Self {
        UserJson {
            id: u.id.get(),
            email: u.email.as_str().to_owned(),
            name: u.name.clone(),
            phone: u.phone.clone(),
            address: u.address.clone(),
            is_admin: u.is_admin,
            date_joined: rfc3339(&u.date_joined),
        }
    }
}

#[derive(Serialize)]
pub struct Page<T> {
    pub count: u64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

#[derive(Serialize)]
pub struct CategoryJson {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub product_count: u64,
}

impl CategoryJson {
    pub fn new(c: &Category, product_count: u64) -> Self {
        CategoryJson {
            id: c.id.get(),
            name: c.name.clone(),
            description: c.description.clone(),
            product_count,
        }
    }
}

#[derive(Serialize)]
pub struct CategoryRef {
    pub id: u64,
    pub name: String,
}

#[derive(Serialize)]
pub struct ProductJson {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: u32,
    pub in_stock: bool,
    pub category: CategoryRef,
    pub created_at: String,
    pub updated_at: String,
}

impl ProductJson {
    pub fn new(p: &Product, category_name: String) -> Self {
        ProductJson {
            id: p.id.get(),
            name: p.name.clone(),
            description: p.description.clone(),
            price: p.price,
            stock: p.stock,
            in_stock: p.stock > 0,
            category: CategoryRef {
                id: p.category_id.get(),
                name: category_name,
            },
            created_at: rfc3339(&p.created_at),
            updated_at: rfc3339(&p.updated_at),
        }
    }
}

#[derive(Serialize)]
pub struct CartProductJson {
    pub id: u64,
    pub name: String,
    pub price: Money,
    pub stock: u32,
}

#[derive(Serialize)]
pub struct CartLineJson {
    pub product: CartProductJson,
    pub quantity: u32,
    pub line_total: Money,
}

#[derive(Serialize)]
pub struct CartJson {
    pub items: Vec<CartLineJson>,
    pub total: Money,
}

#[derive(Serialize)]
pub struct OrderItemJson {
    pub product_id: u64,
    pub name: String,
    pub unit_price: Money,
    pub quantity: u32,
    pub line_total: Money,
}

#[derive(Serialize)]
pub struct HistoryJson {
    pub status: OrderStatus,
    pub at: String,
}

#[derive(Serialize)]
pub struct OrderJson {
    pub id: u64,
    pub user_id: u64,
    pub status: OrderStatus,
    pub items: Vec<OrderItemJson>,
    pub total_price: Money,
    pub history: Vec<HistoryJson>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Order> for OrderJson {
    fn from(o: &Order) -> Self {
        OrderJson {
            id: o.id.get(),
            user_id: o.user_id.get(),
            status: o.status,
            items: o
                .items
                .iter()
                .map(|i| OrderItemJson {
                    product_id: i.product_id.get(),
                    name: i.name.clone(),
                    unit_price: i.unit_price,
                    quantity: i.quantity,
                    line_total: i.line_total(),
                })
                .collect(),
            total_price: o.total_price(),
            history: o
                .history
                .iter()
                .map(|h| HistoryJson {
                    status: h.status,
                    at: rfc3339(&h.at),
                })
                .collect(),
            created_at: rfc3339(&o.created_at),
            updated_at: rfc3339(&o.updated_at),
        }
    }
}

/// The live event as sent over WebSocket and SSE.
#[derive(Serialize)]
pub struct EventJson {
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub order_id: u64,
    pub user_id: u64,
    pub status: OrderStatus,
    pub previous: Option<OrderStatus>,
    pub at: String,
}

impl From<&OrderEvent> for EventJson {
    fn from(e: &OrderEvent) -> Self {
        EventJson {
            id: e.id.get(),
            kind: e.kind.as_str(),
            order_id: e.order_id.get(),
            user_id: e.user_id.get(),
            status: e.status,
            previous: e.previous,
            at: rfc3339(&e.at),
        }
    }
}

#[derive(Serialize)]
pub struct NotificationJson {
    pub id: u64,
    pub kind: &'static str,
    pub order_id: u64,
    pub status: OrderStatus,
    pub message: String,
    pub created_at: String,
    pub read: bool,
}

impl NotificationJson {
    pub fn new(e: &OrderEvent, read: bool) -> Self {
        NotificationJson {
            id: e.id.get(),
            kind: e.kind.as_str(),
            order_id: e.order_id.get(),
            status: e.status,
            message: e.message(),
            created_at: rfc3339(&e.at),
            read,
        }
    }
}

/// Where a paginated answer lives, so `next` and `previous` keep every other query parameter.
#[derive(Debug, Clone)]
pub struct PageLinks {
    /// Absolute URL of the list, without query.
    pub base: String,
    /// The query parameters other than `page`, in a stable order.
    pub params: Vec<(String, String)>,
}

impl PageLinks {
    pub fn url_for(&self, page: u64) -> String {
        let mut query: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{}={}", urlencoding::encode(k), urlencoding::encode(v)))
            .collect();
        query.push(format!("page={page}"));
        format!("{}?{}", self.base, query.join("&"))
    }

    pub fn page<T>(
        &self,
        page: crate::domain::catalog::PageRequest,
        count: u64,
        results: Vec<T>,
    ) -> Page<T> {
        let last = count.div_ceil(page.size).max(1);
        Page {
            count,
            next: (page.page < last).then(|| self.url_for(page.page + 1)),
            previous: (page.page > 1).then(|| self.url_for((page.page - 1).min(last))),
            results,
        }
    }

    /// A cache key part that names this list exactly.
    pub fn cache_key(&self, page: u64) -> String {
        self.url_for(page)
    }
}
