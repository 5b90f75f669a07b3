//! Categories and products. Every write bumps the catalog generation in the same transaction
//! and updates the in-memory index before the lock is released.
use sled::transaction::{ConflictableTransactionError as Abortable, TransactionalTree};
use sled::Transactional;
use time::OffsetDateTime;

use super::catalog_index::Row;
use super::events::append_stock_low;
use super::storage::CatalogStorage;
use super::{bump_generation, codec, lock, next_id, Store, StoreError};
use crate::domain::catalog::{
    Category, CategoryDraft, CategoryWithCount, PageRequest, Product, ProductDraft, ProductFilter,
    StockChange,
};
use crate::domain::event::stock_became_low;
use crate::domain::ids::{CategoryId, ProductId};

#[derive(Debug, Clone)]
pub struct CatalogPage {
    pub count: u64,
    pub products: Vec<Product>,
}

type Tx<T> = Result<T, Abortable<StoreError>>;

pub(super) fn row_of(product: &Product) -> Row {
    Row {
        id: product.id.get(),
        category: product.category_id.get(),
        price: product.price.cents(),
        stock: product.stock,
        created: product.created_at.unix_timestamp_nanos() as i64,
        name_lower: product.name.to_lowercase().into(),
    }
}

/// Writes a product and its index row inside a transaction.
pub(super) fn put_product(
    products: &TransactionalTree,
    rows: &TransactionalTree,
    product: &Product,
) -> Tx<()> {
    products.insert(&product.id.to_key(), codec::encode(product))?;
    rows.insert(&product.id.to_key(), row_of(product).encode())?;
    Ok(())
}

pub(super) fn get_product(products: &TransactionalTree, id: ProductId) -> Tx<Option<Product>> {
    match products.get(id.to_key())? {
        Some(raw) => Ok(Some(codec::decode(&raw).map_err(Abortable::Abort)?)),
        None => Ok(None),
    }
}

fn name_key(name: &str) -> Vec<u8> {
    name.to_lowercase().into_bytes()
}

impl Store {
    /// Heap bytes held by the search index over product names (a diagnostics figure).
    pub fn search_index_bytes(&self) -> usize {
        self.inner.catalog.search_index_bytes()
    }
}

/// The admin writes' half of `product.stock_low`: an entry when this change took the product
/// to the threshold or below (orders note theirs after the order's own event).
fn note_if_low(
    meta: &sled::transaction::TransactionalTree,
    events: &sled::transaction::TransactionalTree,
    product: &Product,
    before: u32,
    threshold: u32,
    now: OffsetDateTime,
) -> Result<(), sled::transaction::UnabortableTransactionError> {
    if !stock_became_low(before, product.stock, threshold) {
        return Ok(());
    }
    let named = (product.id, product.name.as_str());
    append_stock_low(meta, events, named, product.stock, threshold, now)
}

impl CatalogStorage for Store {
    fn seed_products(
        &self,
        drafts: &mut dyn Iterator<Item = ProductDraft>,
        now: OffsetDateTime,
    ) -> Result<usize, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let _guard = lock(&self.inner.catalog_write);
        let mut next = codec::read_u64(t.meta.get(b"seq/product")?.as_deref());
        let mut written = 0;
        let mut drafts = drafts.peekable();
        while drafts.peek().is_some() {
            let mut products = sled::Batch::default();
            let mut rows = sled::Batch::default();
            let mut new_rows = Vec::new();
            for draft in drafts.by_ref().take(10_000) {
                next += 1;
                let created_at = now + time::Duration::microseconds(next as i64);
                let product = Product {
                    id: ProductId::new(next),
                    name: draft.name,
                    description: draft.description,
                    price: draft.price,
                    stock: draft.stock,
                    category_id: draft.category_id,
                    created_at,
                    updated_at: created_at,
                };
                let row = row_of(&product);
                products.insert(&product.id.to_key(), codec::encode(&product));
                rows.insert(&product.id.to_key(), row.encode());
                new_rows.push(row);
            }
            // Rows first: a crash between the two leaves an index row without a product,
            // which reads skip, never a product missing from the index.
            t.catalog_rows.apply_batch(rows)?;
            t.products.apply_batch(products)?;
            t.meta.insert(b"seq/product", &next.to_be_bytes())?;
            written += new_rows.len();
            for row in new_rows {
                self.inner.catalog.upsert(row);
            }
        }
        let generation =
            codec::read_u64(t.meta.get(super::META_CATALOG_GENERATION)?.as_deref()) + 1;
        t.meta
            .insert(super::META_CATALOG_GENERATION, &generation.to_be_bytes())?;
        self.publish_generation(generation);
        Ok(written)
    }

    fn create_category(&self, draft: CategoryDraft) -> Result<Category, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let _guard = lock(&self.inner.catalog_write);
        let (category, generation) = (&t.meta, &t.categories, &t.category_names).transaction(
            |(meta, categories, names)| {
                if names.get(name_key(&draft.name))?.is_some() {
                    return Err(Abortable::Abort(StoreError::Conflict(
                        "a category with that name already exists".into(),
                    )));
                }
                let id = CategoryId::new(next_id(meta, "category")?);
                let category = Category {
                    id,
                    name: draft.name.clone(),
                    description: draft.description.clone(),
                };
                names.insert(name_key(&category.name), &id.to_key())?;
                categories.insert(&id.to_key(), codec::encode(&category))?;
                Ok((category, bump_generation(meta)?))
            },
        )?;
        self.publish_generation(generation);
        Ok(category)
    }

    fn update_category(
        &self,
        id: CategoryId,
        draft: CategoryDraft,
    ) -> Result<Category, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let _guard = lock(&self.inner.catalog_write);
        let (category, generation) = (&t.meta, &t.categories, &t.category_names).transaction(
            |(meta, categories, names)| {
                let raw = categories
                    .get(id.to_key())?
                    .ok_or(Abortable::Abort(StoreError::NotFound))?;
                let old: Category = codec::decode(&raw).map_err(Abortable::Abort)?;
                if let Some(owner) = names.get(name_key(&draft.name))? {
                    if CategoryId::from_key(&owner) != Some(id) {
                        return Err(Abortable::Abort(StoreError::Conflict(
                            "a category with that name already exists".into(),
                        )));
                    }
                }
                names.remove(name_key(&old.name))?;
                names.insert(name_key(&draft.name), &id.to_key())?;
                let category = Category {
                    id,
                    name: draft.name.clone(),
                    description: draft.description.clone(),
                };
                categories.insert(&id.to_key(), codec::encode(&category))?;
                Ok((category, bump_generation(meta)?))
            },
        )?;
        self.publish_generation(generation);
        Ok(category)
    }

    fn delete_category(&self, id: CategoryId) -> Result<(), StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        // Holding the write lock keeps a product from being added to it meanwhile.
        let _guard = lock(&self.inner.catalog_write);
        self.inner.catalog.ready()?;
        if self.inner.catalog.products_in(id) > 0 {
            return Err(StoreError::Conflict(
                "the category still has products".into(),
            ));
        }
        let generation = (&t.meta, &t.categories, &t.category_names).transaction(
            |(meta, categories, names)| {
                let raw = categories
                    .remove(&id.to_key())?
                    .ok_or(Abortable::Abort(StoreError::NotFound))?;
                let old: Category = codec::decode(&raw).map_err(Abortable::Abort)?;
                names.remove(name_key(&old.name))?;
                Ok(bump_generation(meta)?)
            },
        )?;
        self.publish_generation(generation);
        Ok(())
    }

    fn category(&self, id: CategoryId) -> Result<CategoryWithCount, StoreError> {
        let raw = self
            .engine()?
            .trees
            .categories
            .get(id.to_key())?
            .ok_or(StoreError::NotFound)?;
        let category: Category = codec::decode(&raw)?;
        self.inner.catalog.ready()?;
        Ok(CategoryWithCount {
            product_count: self.inner.catalog.products_in(id),
            category,
        })
    }

    fn categories(&self) -> Result<Vec<CategoryWithCount>, StoreError> {
        self.inner.catalog.ready()?;
        let mut out = Vec::new();
        for entry in self.engine()?.trees.categories.iter() {
            let (_, raw) = entry?;
            let category: Category = codec::decode(&raw)?;
            out.push(CategoryWithCount {
                product_count: self.inner.catalog.products_in(category.id),
                category,
            });
        }
        Ok(out)
    }

    fn create_product(
        &self,
        draft: ProductDraft,
        now: OffsetDateTime,
    ) -> Result<Product, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let _guard = lock(&self.inner.catalog_write);
        let (product, generation) = (&t.meta, &t.categories, &t.products, &t.catalog_rows)
            .transaction(|(meta, categories, products, rows)| {
                if categories.get(draft.category_id.to_key())?.is_none() {
                    return Err(Abortable::Abort(StoreError::UnknownCategory));
                }
                let id = ProductId::new(next_id(meta, "product")?);
                let product = Product {
                    id,
                    name: draft.name.clone(),
                    description: draft.description.clone(),
                    price: draft.price,
                    stock: draft.stock,
                    category_id: draft.category_id,
                    created_at: now,
                    updated_at: now,
                };
                put_product(products, rows, &product)?;
                Ok((product, bump_generation(meta)?))
            })?;
        self.inner.catalog.upsert(row_of(&product));
        self.publish_generation(generation);
        Ok(product)
    }

    fn update_product(
        &self,
        id: ProductId,
        now: OffsetDateTime,
        change: &dyn Fn(&Product) -> ProductDraft,
    ) -> Result<Product, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let _guard = lock(&self.inner.catalog_write);
        // The stock may become low: an event, so the log's commit order must hold.
        let _log = lock(&self.inner.event_log);
        let threshold = self.stock_low_threshold();
        let (product, generation) = (
            &t.meta,
            &t.categories,
            &t.products,
            &t.catalog_rows,
            &t.events,
        )
            .transaction(|(meta, categories, products, rows, events)| {
                let mut product =
                    get_product(products, id)?.ok_or(Abortable::Abort(StoreError::NotFound))?;
                let before = product.stock;
                let draft = change(&product);
                if categories.get(draft.category_id.to_key())?.is_none() {
                    return Err(Abortable::Abort(StoreError::UnknownCategory));
                }
                product.name = draft.name;
                product.description = draft.description;
                product.price = draft.price;
                product.stock = draft.stock;
                product.category_id = draft.category_id;
                product.updated_at = now;
                put_product(products, rows, &product)?;
                note_if_low(meta, events, &product, before, threshold, now)?;
                Ok((product, bump_generation(meta)?))
            })?;
        self.inner.catalog.upsert(row_of(&product));
        self.publish_generation(generation);
        Ok(product)
    }

    fn delete_product(&self, id: ProductId) -> Result<(), StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let _guard = lock(&self.inner.catalog_write);
        let generation =
            (&t.meta, &t.products, &t.catalog_rows).transaction(|(meta, products, rows)| {
                products
                    .remove(&id.to_key())?
                    .ok_or(Abortable::Abort(StoreError::NotFound))?;
                rows.remove(&id.to_key())?;
                Ok(bump_generation(meta)?)
            })?;
        self.inner.catalog.remove(id);
        self.publish_generation(generation);
        Ok(())
    }

    fn change_stock(
        &self,
        id: ProductId,
        change: StockChange,
        now: OffsetDateTime,
    ) -> Result<Product, StoreError> {
        let _writing = self.writing();
        let engine = self.engine()?;
        let t = &engine.trees;
        let _guard = lock(&self.inner.catalog_write);
        // The stock may become low: an event, so the log's commit order must hold.
        let _log = lock(&self.inner.event_log);
        let threshold = self.stock_low_threshold();
        let trees = (&t.meta, &t.products, &t.catalog_rows, &t.events);
        let (product, generation) = trees.transaction(|(meta, products, rows, events)| {
            let mut product =
                get_product(products, id)?.ok_or(Abortable::Abort(StoreError::NotFound))?;
            let before = product.stock;
            product.stock = change
                .apply(product.stock)
                .map_err(|refused| Abortable::Abort(StoreError::Conflict(refused.to_string())))?;
            product.updated_at = now;
            put_product(products, rows, &product)?;
            note_if_low(meta, events, &product, before, threshold, now)?;
            Ok((product, bump_generation(meta)?))
        })?;
        self.inner.catalog.set_stock(id, product.stock);
        self.publish_generation(generation);
        Ok(product)
    }

    fn product(&self, id: ProductId) -> Result<Product, StoreError> {
        let raw = self
            .engine()?
            .trees
            .products
            .get(id.to_key())?
            .ok_or(StoreError::NotFound)?;
        codec::decode(&raw)
    }

    fn products(&self, ids: &[ProductId]) -> Result<Vec<Product>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(raw) = self.engine()?.trees.products.get(id.to_key())? {
                out.push(codec::decode(&raw)?);
            }
        }
        Ok(out)
    }

    fn list_products(
        &self,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<CatalogPage, StoreError> {
        self.inner.catalog.ready()?;
        let (count, ids) = self.inner.catalog.query(filter, page);
        Ok(CatalogPage {
            count,
            products: self.products(&ids)?,
        })
    }

    fn catalog_is_empty(&self) -> Result<bool, StoreError> {
        let engine = self.engine()?;
        Ok(engine.trees.categories.is_empty() && engine.trees.catalog_rows.is_empty())
    }

    fn product_count(&self) -> usize {
        self.inner.catalog.len()
    }
}
