//! Categories and products on PostgreSQL. Every write bumps the catalog generation in its own
//! transaction; lists are answered by the indexes of the schema (one per filter and ordering).
use std::collections::HashMap;

use sqlx::{Postgres, QueryBuilder, Row};
use time::OffsetDateTime;

use super::events::{append, NewEntry};
use super::rows::{self, corrupt, key, PRODUCT_COLUMNS};
use super::{bump_generation, error_of, error_or_missing_reference, Pg, Tx};
use crate::domain::catalog::{
    Category, CategoryDraft, CategoryWithCount, Ordering, PageRequest, Product, ProductDraft,
    ProductFilter, StockChange,
};
use crate::domain::event::stock_became_low;
use crate::domain::ids::{CategoryId, ProductId};
use crate::domain::search::fold;
use crate::store::storage::CatalogStorage;
use crate::store::storage::StorageOperations;
use crate::store::{CatalogPage, StoreError};

/// Rows a seed writes per statement.
const SEED_CHUNK: usize = 5_000;

async fn locked_product(tx: &mut Tx, id: ProductId) -> Result<Product, StoreError> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1 FOR UPDATE");
    let row = sqlx::query(&sql)
        .bind(key(id.get()))
        .fetch_optional(&mut **tx)
        .await
        .map_err(error_of)?
        .ok_or(StoreError::NotFound)?;
    rows::product(&row)
}

/// Writes the editable fields and stock of a product that exists.
pub(super) async fn write_product(tx: &mut Tx, product: &Product) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE products SET name = $2, folded_name = $3, sort_name = $9, description = $4, \
         price_cents = $5, stock = $6, category_id = $7, updated_at = $8 WHERE id = $1",
    )
    .bind(key(product.id.get()))
    .bind(&product.name)
    .bind(fold(&product.name).as_ref())
    .bind(&product.description)
    .bind(product.price.cents())
    .bind(product.stock as i64)
    .bind(key(product.category_id.get()))
    .bind(product.updated_at)
    .bind(product.name.to_lowercase())
    .execute(&mut **tx)
    .await
    .map_err(foreign_key_as_category)?;
    Ok(())
}

/// A product naming a category that does not exist.
fn foreign_key_as_category(e: sqlx::Error) -> StoreError {
    error_or_missing_reference(e, StoreError::UnknownCategory)
}

/// The stock event of an admin write that took the product to the threshold or below.
fn low_stock_entry(
    product: &Product,
    before: u32,
    threshold: u32,
    now: OffsetDateTime,
) -> Vec<NewEntry> {
    if !stock_became_low(before, product.stock, threshold) {
        return Vec::new();
    }
    vec![NewEntry::StockLow {
        product_id: product.id,
        name: product.name.clone(),
        stock: product.stock,
        threshold,
        at: now,
    }]
}

/// `%`, `_` and `\` taken literally in a LIKE pattern.
fn like_escaped(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 2);
    out.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The WHERE clause of a product filter (the same rule as `ProductFilter::matches`).
fn push_filter(query: &mut QueryBuilder<'_, Postgres>, filter: &ProductFilter) {
    query.push(" WHERE true");
    if let Some(category) = filter.category {
        query
            .push(" AND category_id = ")
            .push_bind(key(category.get()));
    }
    if let Some(min) = filter.min_price {
        query.push(" AND price_cents >= ").push_bind(min.cents());
    }
    if let Some(max) = filter.max_price {
        query.push(" AND price_cents <= ").push_bind(max.cents());
    }
    match filter.in_stock {
        Some(true) => {
            query.push(" AND in_stock");
        }
        Some(false) => {
            query.push(" AND NOT in_stock");
        }
        None => {}
    }
    for word in filter.search.iter().flat_map(|s| s.words()) {
        query
            .push(" AND folded_name LIKE ")
            .push_bind(like_escaped(word));
    }
}

fn order_by(ordering: Ordering) -> &'static str {
    match ordering {
        Ordering::IdAsc => " ORDER BY id",
        Ordering::IdDesc => " ORDER BY id DESC",
        Ordering::PriceAsc => " ORDER BY price_cents, id",
        Ordering::PriceDesc => " ORDER BY price_cents DESC, id DESC",
        Ordering::NameAsc => " ORDER BY sort_name COLLATE \"C\", id",
        Ordering::NameDesc => " ORDER BY sort_name COLLATE \"C\" DESC, id DESC",
        Ordering::CreatedAsc => " ORDER BY created_at, id",
        Ordering::CreatedDesc => " ORDER BY created_at DESC, id DESC",
    }
}

impl Pg {
    fn with_counts(
        &self,
        where_clause: &str,
        id: Option<i64>,
    ) -> Result<Vec<CategoryWithCount>, StoreError> {
        let sql = format!(
            "SELECT c.id, c.name, c.description, c.product_count \
             FROM categories c {where_clause} ORDER BY c.id"
        );
        let found = self.wait(sqlx::query(&sql).bind(id).fetch_all(self.pool()))?;
        found
            .iter()
            .map(|row| {
                let count: i64 = row.try_get("product_count").map_err(corrupt)?;
                Ok(CategoryWithCount {
                    category: rows::category(row)?,
                    product_count: count as u64,
                })
            })
            .collect()
    }

    /// Runs a catalog write: its transaction, the generation bumped in it, then published.
    fn catalog_write<T>(
        &self,
        work: impl AsyncFnOnce(&mut Tx) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (value, generation) = self.transaction(async |tx| {
            let value = work(tx).await?;
            Ok((value, bump_generation(tx).await?))
        })?;
        self.publish_generation(generation);
        Ok(value)
    }
}

impl Pg {
    /// How many products match `filter`. Counting is the expensive half of a page at a million
    /// products (every matching index entry is visited, where the page itself reads a few), so
    /// the answer is kept per filter and catalog generation: the pages of one filter, in any
    /// ordering, count once until the catalog changes.
    fn matching(&self, filter: &ProductFilter) -> Result<u64, StoreError> {
        let words = filter.search.as_ref().map(|s| s.words().join(" "));
        let cache_key = format!(
            "{}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.catalog_generation(),
            filter.category.map(|c| c.get()),
            filter.min_price.map(|m| m.cents()),
            filter.max_price.map(|m| m.cents()),
            filter.in_stock,
            words,
        );
        if let Some(count) = self.inner.list_counts.get(&cache_key) {
            return Ok(count);
        }
        let mut count = QueryBuilder::<Postgres>::new("SELECT count(*) FROM products");
        push_filter(&mut count, filter);
        let total: i64 = self.wait(count.build_query_scalar().fetch_one(self.pool()))?;
        self.inner.list_counts.insert(cache_key, total as u64);
        Ok(total as u64)
    }
}

impl Pg {
    /// The plans PostgreSQL picks for one page of `filter` and for its count (`EXPLAIN`): the
    /// check that every list is answered from an index, not by reading the table.
    pub fn explain_list(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<[String; 2], StoreError> {
        let mut list = QueryBuilder::<Postgres>::new(format!(
            "EXPLAIN SELECT {PRODUCT_COLUMNS} FROM products"
        ));
        push_filter(&mut list, filter);
        list.push(order_by(filter.ordering));
        list.push(" LIMIT ").push_bind(page.size as i64);
        list.push(" OFFSET ")
            .push_bind((page.page.saturating_sub(1) * page.size) as i64);
        let mut count = QueryBuilder::<Postgres>::new("EXPLAIN SELECT count(*) FROM products");
        push_filter(&mut count, filter);
        let list: Vec<String> = self.wait(list.build_query_scalar().fetch_all(self.pool()))?;
        let count: Vec<String> = self.wait(count.build_query_scalar().fetch_all(self.pool()))?;
        Ok([list.join("\n"), count.join("\n")])
    }

    /// Refreshes the planner's statistics and the visibility map (after a bulk load): counts
    /// are index-only scans only over pages the map knows are all visible.
    pub fn analyze(&self) -> Result<(), StoreError> {
        self.wait(sqlx::query("VACUUM (ANALYZE)").execute(self.pool()))?;
        Ok(())
    }
}

impl CatalogStorage for Pg {
    fn seed_products(
        &self,
        drafts: &mut dyn Iterator<Item = ProductDraft>,
        now: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        let mut written = 0;
        loop {
            let chunk: Vec<ProductDraft> = (&mut *drafts).take(SEED_CHUNK).collect();
            if chunk.is_empty() {
                break;
            }
            let offset = written as i64;
            let count = chunk.len();
            self.catalog_write(async |tx| {
                let mut insert = QueryBuilder::<Postgres>::new(
                    "INSERT INTO products (name, folded_name, sort_name, description, \
                     price_cents, stock, category_id, created_at, updated_at) ",
                );
                insert.push_values(chunk.iter().enumerate(), |mut row, (n, draft)| {
                    // Distinct creation times keep the created_at ordering stable.
                    let created = now + time::Duration::microseconds(offset + n as i64 + 1);
                    row.push_bind(&draft.name)
                        .push_bind(fold(&draft.name).into_owned())
                        .push_bind(draft.name.to_lowercase())
                        .push_bind(&draft.description)
                        .push_bind(draft.price.cents())
                        .push_bind(draft.stock as i64)
                        .push_bind(key(draft.category_id.get()))
                        .push_bind(created)
                        .push_bind(created);
                });
                insert
                    .build()
                    .execute(&mut **tx)
                    .await
                    .map_err(foreign_key_as_category)?;
                Ok(())
            })?;
            written += count;
        }
        // Fresh rows are not yet all-visible: without this, counts read the table until
        // autovacuum comes by.
        if let Err(e) = self.analyze() {
            tracing::warn!(error = %e, "VACUUM (ANALYZE) after seeding failed");
        }
        Ok(written)
    }

    fn create_category(&self, draft: CategoryDraft) -> Result<Category, StoreError> {
        self.catalog_write(async |tx| {
            let row = sqlx::query(
                "INSERT INTO categories (name, name_key, description) VALUES ($1, $3, $2) \
                 RETURNING id, name, description",
            )
            .bind(&draft.name)
            .bind(&draft.description)
            .bind(draft.name.to_lowercase())
            .fetch_one(&mut **tx)
            .await
            .map_err(error_of)?;
            rows::category(&row)
        })
    }

    fn update_category(
        &self,
        id: CategoryId,
        draft: CategoryDraft,
    ) -> Result<Category, StoreError> {
        self.catalog_write(async |tx| {
            let row = sqlx::query(
                "UPDATE categories SET name = $2, name_key = $4, description = $3 WHERE id = $1 \
                 RETURNING id, name, description",
            )
            .bind(key(id.get()))
            .bind(&draft.name)
            .bind(&draft.description)
            .bind(draft.name.to_lowercase())
            .fetch_optional(&mut **tx)
            .await
            .map_err(error_of)?
            .ok_or(StoreError::NotFound)?;
            rows::category(&row)
        })
    }

    fn delete_category(&self, id: CategoryId) -> Result<(), StoreError> {
        self.catalog_write(async |tx| {
            let deleted = sqlx::query("DELETE FROM categories WHERE id = $1")
                .bind(key(id.get()))
                .execute(&mut **tx)
                .await
                .map_err(|e| {
                    let still_used = StoreError::Conflict("the category still has products".into());
                    error_or_missing_reference(e, still_used)
                })?;
            match deleted.rows_affected() {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
    }

    fn category(&self, id: CategoryId) -> Result<CategoryWithCount, StoreError> {
        self.with_counts("WHERE c.id = $1", Some(key(id.get())))?
            .pop()
            .ok_or(StoreError::NotFound)
    }

    fn categories(&self) -> Result<Vec<CategoryWithCount>, StoreError> {
        self.with_counts("WHERE $1::bigint IS NULL", None)
    }

    fn create_product(
        &self,
        draft: ProductDraft,
        now: OffsetDateTime,
    ) -> Result<Product, StoreError> {
        self.catalog_write(async |tx| {
            let sql = format!(
                "INSERT INTO products (name, folded_name, sort_name, description, price_cents, \
                 stock, category_id, created_at, updated_at) \
                 VALUES ($1, $2, $8, $3, $4, $5, $6, $7, $7) RETURNING {PRODUCT_COLUMNS}"
            );
            let row = sqlx::query(&sql)
                .bind(&draft.name)
                .bind(fold(&draft.name).as_ref())
                .bind(&draft.description)
                .bind(draft.price.cents())
                .bind(draft.stock as i64)
                .bind(key(draft.category_id.get()))
                .bind(now)
                .bind(draft.name.to_lowercase())
                .fetch_one(&mut **tx)
                .await
                .map_err(foreign_key_as_category)?;
            rows::product(&row)
        })
    }

    fn update_product(
        &self,
        id: ProductId,
        now: OffsetDateTime,
        change: &dyn Fn(&Product) -> ProductDraft,
    ) -> Result<Product, StoreError> {
        let threshold = self.stock_low_threshold();
        self.catalog_write(async |tx| {
            let mut product = locked_product(tx, id).await?;
            let before = product.stock;
            let draft = change(&product);
            product.name = draft.name;
            product.description = draft.description;
            product.price = draft.price;
            product.stock = draft.stock;
            product.category_id = draft.category_id;
            product.updated_at = now;
            write_product(tx, &product).await?;
            append(tx, low_stock_entry(&product, before, threshold, now)).await?;
            Ok(product)
        })
    }

    fn delete_product(&self, id: ProductId) -> Result<(), StoreError> {
        self.catalog_write(async |tx| {
            let deleted = sqlx::query("DELETE FROM products WHERE id = $1")
                .bind(key(id.get()))
                .execute(&mut **tx)
                .await
                .map_err(error_of)?;
            match deleted.rows_affected() {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
    }

    fn change_stock(
        &self,
        id: ProductId,
        change: StockChange,
        now: OffsetDateTime,
    ) -> Result<Product, StoreError> {
        let threshold = self.stock_low_threshold();
        self.catalog_write(async |tx| {
            let mut product = locked_product(tx, id).await?;
            let before = product.stock;
            product.stock = change
                .apply(product.stock)
                .map_err(|refused| StoreError::Conflict(refused.to_string()))?;
            product.updated_at = now;
            write_product(tx, &product).await?;
            append(tx, low_stock_entry(&product, before, threshold, now)).await?;
            Ok(product)
        })
    }

    fn product(&self, id: ProductId) -> Result<Product, StoreError> {
        self.wait_store(self.read_product(id))
    }

    fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, StoreError> {
        let keys: Vec<i64> = ids.iter().map(|id| key(id.get())).collect();
        // `= ANY` is planned as primary-key lookups whatever the array; a join on UNNEST got a
        // generic plan that scanned the whole table (hot under orders: each stock change leaves
        // a dead row version behind until vacuum).
        let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ANY($1)");
        let found = self.wait(sqlx::query(&sql).bind(keys).fetch_all(self.pool()))?;
        let found: HashMap<ProductId, Product> = found
            .iter()
            .map(|row| rows::product(row).map(|p| (p.id, p)))
            .collect::<Result<_, _>>()?;
        // In the order asked, as often as asked (as the join answered).
        let ordered = ids.iter().filter_map(|id| found.get(id).cloned()).collect();
        Ok(ordered)
    }

    fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<CatalogPage, StoreError> {
        let total = self.matching(filter)?;
        let mut list =
            QueryBuilder::<Postgres>::new(format!("SELECT {PRODUCT_COLUMNS} FROM products"));
        push_filter(&mut list, filter);
        list.push(order_by(filter.ordering));
        let offset = page.page.saturating_sub(1).saturating_mul(page.size);
        list.push(" LIMIT ").push_bind(page.size as i64);
        list.push(" OFFSET ")
            .push_bind(offset.min(i64::MAX as u64) as i64);
        let found = self.wait(list.build().fetch_all(self.pool()))?;
        Ok(CatalogPage {
            count: total,
            products: found.iter().map(rows::product).collect::<Result<_, _>>()?,
        })
    }

    fn catalog_is_empty(&self) -> Result<bool, StoreError> {
        self.wait(
            sqlx::query_scalar(
                "SELECT NOT EXISTS (SELECT 1 FROM categories) AND NOT EXISTS (SELECT 1 FROM products)",
            )
            .fetch_one(self.pool()),
        )
    }

    fn product_count(&self) -> usize {
        // An estimate from the planner's statistics: a diagnostics figure, never a full count.
        self.wait(
            sqlx::query_scalar::<_, f32>(
                "SELECT greatest(reltuples, 0)::real FROM pg_class WHERE relname = 'products'",
            )
            .fetch_one(self.pool()),
        )
        .map(|n| n as usize)
        .unwrap_or(0)
    }
}

impl Pg {
    pub(super) async fn read_product(&self, id: ProductId) -> Result<Product, StoreError> {
        let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = $1");
        let row = self.noted(
            sqlx::query(&sql)
                .bind(key(id.get()))
                .fetch_optional(self.pool())
                .await,
            error_of,
        )?;
        rows::product(&row.ok_or(StoreError::NotFound)?)
    }
}
