//! Categories, products and stock. Reads of the API go through the cache as serialized bytes;
//! every write moves the catalog generation before it is acknowledged.
use bytes::Bytes;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

use super::blocking;
use super::json::{CategoryJson, PageLinks, ProductJson};
use crate::cache::Cache;
pub use crate::cache::CacheHealth;
use crate::domain::catalog::{
    Category, CategoryDraft, CategoryWithCount, PageRequest, Product, ProductDraft, ProductFilter,
    StockChange,
};
use crate::domain::clock::Clock;
use crate::domain::ids::{CategoryId, ProductId};
use crate::error::AppError;
pub use crate::store::StorageHealth;
use crate::store::{SharedStorage, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    Miss,
}

impl CacheStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheStatus::Hit => "HIT",
            CacheStatus::Miss => "MISS",
        }
    }
}

/// See [`Catalog::url_key`].
#[derive(Debug, Clone)]
pub struct UrlKey(String);

/// `n` in decimal, written at the end of `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[at..]).expect("ASCII digits")
}

#[derive(Clone)]
pub struct Catalog {
    store: SharedStorage,
    cache: Arc<Cache>,
    /// Stamps products' creation and update times.
    clock: Clock,
}

fn to_bytes<T: Serialize>(value: &T) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("JSON shapes serialize"))
}

impl Catalog {
    pub fn new(store: SharedStorage, cache: Arc<Cache>, clock: Clock) -> Catalog {
        Catalog {
            store,
            cache,
            clock,
        }
    }

    /// Whether the database takes changes (it does not while the disk is full, say).
    pub fn storage_health(&self) -> StorageHealth {
        self.store.storage_health()
    }

    /// Whether the shared cache (Redis) can be reached; always `Ok` without one.
    pub async fn cache_health(&self) -> CacheHealth {
        self.cache.health().await
    }

    /// Reads answered from the cache, and reads it could not answer, since start.
    pub fn cache_counts(&self) -> (u64, u64) {
        (self.cache.hits(), self.cache.misses())
    }

    /// Serves `key` from the cache, or computes, stores and returns it. The generation is read
    /// before the store: an answer computed from older data is filed under the older generation.
    async fn cached(
        &self,
        kind: &str,
        key: &str,
        compute: impl FnOnce(SharedStorage) -> Result<Bytes, AppError> + Send + 'static,
    ) -> Result<(Bytes, CacheStatus), AppError> {
        let key = format!("{}:{kind}:{key}", self.store.catalog_generation());
        if let Some(hit) = self.cache.get(&key).await {
            return Ok((hit, CacheStatus::Hit));
        }
        let store = self.store.clone();
        let bytes = blocking(move || compute(store)).await?;
        self.cache.put(&key, bytes.clone()).await;
        Ok((bytes, CacheStatus::Miss))
    }

    /// The key under which the answer to one exact request URL (scheme, host, path and raw
    /// query) is remembered. It carries the generation read now, before any handler runs, so
    /// the answer is filed under a generation no newer than the data it was computed from, as
    /// in `cached`.
    pub fn url_key(&self, scheme: &str, host: &str, path: &str, query: &str) -> UrlKey {
        // The same text `format!` would give, pieced together: on a cached answer the
        // formatting machinery cost as much as the cache lookup itself.
        let mut generation = [0u8; 20];
        let digits = decimal(self.store.catalog_generation(), &mut generation);
        let parts = [digits, ":url:", scheme, "://", host, path, "?", query];
        let mut key = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        for part in parts {
            key.push_str(part);
        }
        UrlKey(key)
    }

    /// A remembered answer for `key`: the serialized bytes, with no parsing, store read or
    /// serialization.
    pub fn url_answer(&self, key: &UrlKey) -> Option<Bytes> {
        self.cache.get_local(&key.0)
    }

    pub fn remember_url_answer(&self, key: &UrlKey, body: Bytes) {
        self.cache.put_local(&key.0, body);
    }

    pub async fn product_list_json(
        &self,
        filter: ProductFilter,
        page: PageRequest,
        links: PageLinks,
    ) -> Result<(Bytes, CacheStatus), AppError> {
        let key = links.cache_key(page.page) + &format!("&page_size={}", page.size);
        self.cached("products", &key, move |store| {
            let found = store.list_products(&filter, page)?;
            if !page.exists_within(found.count) {
                return Err(AppError::NotFound);
            }
            let results = product_jsons(&store, &found.products)?;
            Ok(to_bytes(&links.page(page, found.count, results)))
        })
        .await
    }

    pub async fn product_json(&self, id: ProductId) -> Result<(Bytes, CacheStatus), AppError> {
        self.cached("product", &id.to_string(), move |store| {
            let product = store.product(id)?;
            Ok(to_bytes(
                &product_jsons(&store, std::slice::from_ref(&product))?.remove(0),
            ))
        })
        .await
    }

    pub async fn category_list_json(
        &self,
        page: PageRequest,
        links: PageLinks,
    ) -> Result<(Bytes, CacheStatus), AppError> {
        let key = links.cache_key(page.page) + &format!("&page_size={}", page.size);
        self.cached("categories", &key, move |store| {
            let all = store.categories()?;
            let count = all.len() as u64;
            if !page.exists_within(count) {
                return Err(AppError::NotFound);
            }
            let results: Vec<CategoryJson> = all
                .iter()
                .skip(page.offset() as usize)
                .take(page.size as usize)
                .map(|c| CategoryJson::new(&c.category, c.product_count))
                .collect();
            Ok(to_bytes(&links.page(page, count, results)))
        })
        .await
    }

    pub async fn category_json(&self, id: CategoryId) -> Result<(Bytes, CacheStatus), AppError> {
        self.cached("category", &id.to_string(), move |store| {
            let found = store.category(id)?;
            Ok(to_bytes(&CategoryJson::new(
                &found.category,
                found.product_count,
            )))
        })
        .await
    }

    pub async fn categories(&self) -> Result<Vec<CategoryWithCount>, AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.categories()?)).await
    }

    pub async fn category(&self, id: CategoryId) -> Result<CategoryWithCount, AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.category(id)?)).await
    }

    pub async fn product(&self, id: ProductId) -> Result<Product, AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.product(id)?)).await
    }

    /// The products that still exist among `ids`, in the order asked (a visitor's cart).
    pub async fn products(&self, ids: Vec<ProductId>) -> Result<Vec<Product>, AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.products(&ids)?)).await
    }

    /// The product with its category's name, for its page.
    pub async fn named_product(&self, id: ProductId) -> Result<NamedProduct, AppError> {
        let store = self.store.clone();
        blocking(move || {
            let product = store.product(id)?;
            let name = category_names_of(&store, std::slice::from_ref(&product))?.remove(0);
            Ok((product, name))
        })
        .await
    }

    /// One page of products, each with its category's name, for the pages.
    pub async fn product_page(
        &self,
        filter: ProductFilter,
        page: PageRequest,
    ) -> Result<NamedProductPage, AppError> {
        let store = self.store.clone();
        blocking(move || {
            let found = store.list_products(&filter, page)?;
            let names = category_names_of(&store, &found.products)?;
            Ok(NamedProductPage {
                products: found.products.into_iter().zip(names).collect(),
                count: found.count,
            })
        })
        .await
    }

    // The writes below run on the blocking pool: each takes the catalog write lock, which an
    // order batch holds for the length of its transaction, and a worker thread must not wait.

    pub async fn create_category(
        &self,
        draft: CategoryDraft,
    ) -> Result<CategoryWithCount, AppError> {
        let store = self.store.clone();
        let category = blocking(move || Ok(store.create_category(draft)?)).await?;
        Ok(CategoryWithCount {
            category,
            product_count: 0,
        })
    }

    pub async fn update_category(
        &self,
        id: CategoryId,
        change: impl Fn(&Category) -> CategoryDraft + Send + 'static,
    ) -> Result<CategoryWithCount, AppError> {
        let store = self.store.clone();
        blocking(move || {
            let current = store.category(id)?;
            let updated = store.update_category(id, change(&current.category))?;
            Ok(CategoryWithCount {
                category: updated,
                product_count: current.product_count,
            })
        })
        .await
    }

    pub async fn delete_category(&self, id: CategoryId) -> Result<(), AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.delete_category(id)?)).await
    }

    pub async fn create_product(&self, draft: ProductDraft) -> Result<Product, AppError> {
        let (store, now) = (self.store.clone(), self.clock.now());
        blocking(move || store.create_product(draft, now).map_err(AppError::from)).await
    }

    /// `change` makes the new product from the stored one, inside the write's transaction.
    pub async fn update_product(
        &self,
        id: ProductId,
        change: impl Fn(&Product) -> ProductDraft + Send + 'static,
    ) -> Result<Product, AppError> {
        let (store, now) = (self.store.clone(), self.clock.now());
        blocking(move || {
            store
                .update_product(id, now, &change)
                .map_err(AppError::from)
        })
        .await
    }

    pub async fn delete_product(&self, id: ProductId) -> Result<(), AppError> {
        let store = self.store.clone();
        blocking(move || Ok(store.delete_product(id)?)).await
    }

    pub async fn change_stock(
        &self,
        id: ProductId,
        change: StockChange,
    ) -> Result<Product, AppError> {
        let (store, now) = (self.store.clone(), self.clock.now());
        blocking(move || Ok(store.change_stock(id, change, now)?)).await
    }

    pub async fn product_json_of(&self, product: &Product) -> Result<ProductJson, AppError> {
        let (store, product) = (self.store.clone(), product.clone());
        blocking(move || Ok(product_jsons(&store, std::slice::from_ref(&product))?.remove(0))).await
    }

    pub fn product_count(&self) -> usize {
        self.store.product_count()
    }
}

/// A product and the name of its category (empty when the category is gone).
pub type NamedProduct = (Product, String);

/// A page of the product list for the pages: the products on it and how many match in all.
pub struct NamedProductPage {
    pub products: Vec<NamedProduct>,
    pub count: u64,
}

/// The name of each product's category, in order, reading each category once: the one join
/// of products and categories, behind the JSON and the pages alike.
fn category_names_of(store: &SharedStorage, products: &[Product]) -> Result<Vec<String>, AppError> {
    let mut names: HashMap<CategoryId, String> = HashMap::new();
    let mut out = Vec::with_capacity(products.len());
    for product in products {
        if !names.contains_key(&product.category_id) {
            let name = match store.category(product.category_id) {
                Ok(found) => found.category.name,
                Err(StoreError::NotFound) => String::new(),
                Err(e) => return Err(e.into()),
            };
            names.insert(product.category_id, name);
        }
        out.push(names[&product.category_id].clone());
    }
    Ok(out)
}

fn product_jsons(
    store: &SharedStorage,
    products: &[Product],
) -> Result<Vec<ProductJson>, AppError> {
    let names = category_names_of(store, products)?;
    Ok(products
        .iter()
        .zip(names)
        .map(|(product, name)| ProductJson::new(product, name))
        .collect())
}

impl Catalog {
    /// Writes the demo catalog: its categories (those missing) and `products` products.
    pub fn seed_demo(&self, products: usize) -> Result<usize, AppError> {
        let mut ids = Vec::new();
        let existing = self.store.categories()?;
        for draft in crate::demo::categories() {
            let found = existing
                .iter()
                .find(|c| c.category.name.eq_ignore_ascii_case(&draft.name));
            ids.push(match found {
                Some(c) => c.category.id,
                None => self.store.create_category(draft)?.id,
            });
        }
        let mut drafts = crate::demo::products(products, &ids);
        Ok(self.store.seed_products(&mut drafts, self.clock.now())?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimal_writes_what_format_writes() {
        let mut buf = [0u8; 20];
        for n in [0, 7, 10, 12_345, u64::MAX] {
            assert_eq!(super::decimal(n, &mut buf), n.to_string());
        }
    }
}
