//! The product list index: one compact row per product, loaded from the `catalog_rows` tree at
//! start (on its own thread, see `loading`) and updated under the catalog write lock after each
//! commit. A filtered page is a scan in memory, so `count` comes for free with it: over the
//! category's packed entries when the filter names a category (`by_category`), else over ~56
//! bytes a product. A search first asks the trigram index beside the rows (`name_index`, same
//! lock, same writes) which products can match, and scans only those.
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering as Atomic};
use std::sync::{Mutex, RwLock};

use super::lock;
use super::name_index::NameIndex;
use super::StoreError;
use crate::domain::catalog::{Ordering, PageRequest, ProductFilter};
use crate::domain::ids::{CategoryId, ProductId};
use crate::domain::money::Money;
use by_category::ByCategory;
use loading::{load_rows, Pending};
use paging::{id_page, ordered_page, page_of, rows_with_ids, take_page};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: u64,
    pub category: u64,
    pub price: i64,
    pub stock: u32,
    pub created: i64,
    pub name_lower: Box<str>,
}

impl Row {
    /// category ‖ price ‖ stock ‖ created ‖ lower-cased name, as stored in `catalog_rows`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(28 + self.name_lower.len());
        out.extend_from_slice(&self.category.to_be_bytes());
        out.extend_from_slice(&self.price.to_be_bytes());
        out.extend_from_slice(&self.stock.to_be_bytes());
        out.extend_from_slice(&self.created.to_be_bytes());
        out.extend_from_slice(self.name_lower.as_bytes());
        out
    }

    pub fn decode(id: u64, bytes: &[u8]) -> Option<Row> {
        let u64_at = |at: usize| Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?));
        Some(Row {
            id,
            category: u64_at(0)?,
            price: u64_at(8)? as i64,
            stock: u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?),
            created: u64_at(20)? as i64,
            name_lower: std::str::from_utf8(bytes.get(28..)?).ok()?.into(),
        })
    }

    fn matches(&self, filter: &ProductFilter) -> bool {
        filter.matches(
            CategoryId::new(self.category),
            Money::from_cents(self.price),
            self.stock,
            &self.name_lower,
        )
    }
}

#[derive(Default)]
struct Rows {
    /// Sorted by id: new products get the next id, so inserts are pushes.
    rows: Vec<Row>,
    by_category: ByCategory,
    names: NameIndex,
}

pub struct CatalogIndex {
    state: RwLock<Rows>,
    /// The load started with the store; the first call that needs the index takes its answer.
    pending: Mutex<Option<Pending>>,
    phase: AtomicU8,
    /// Why the load failed, when `phase` says it did.
    failure: Mutex<String>,
}

const LOADING: u8 = 0;
const READY: u8 = 1;
const FAILED: u8 = 2;

impl CatalogIndex {
    /// Starts reading the rows on their own thread and returns at once (see `loading`).
    pub fn load_in_background(tree: sled::Tree) -> Result<CatalogIndex, StoreError> {
        let pending = Pending::start(tree).map_err(|e| StoreError::Io(e.to_string()))?;
        Ok(CatalogIndex::with(Rows::default(), Some(pending), LOADING))
    }

    /// Reads the rows before returning (the database was reopened after a storage fault).
    pub fn load(tree: &sled::Tree) -> Result<CatalogIndex, StoreError> {
        let rows = load_rows(tree, &AtomicBool::new(false))?;
        Ok(CatalogIndex::with(rows, None, READY))
    }

    fn with(rows: Rows, pending: Option<Pending>, phase: u8) -> CatalogIndex {
        CatalogIndex {
            state: RwLock::new(rows),
            pending: Mutex::new(pending),
            phase: AtomicU8::new(phase),
            failure: Mutex::default(),
        }
    }

    /// Waits for the load begun at start; an error if it failed (the index is then empty).
    pub fn ready(&self) -> Result<(), StoreError> {
        if self.phase.load(Atomic::Acquire) == LOADING {
            self.wait_for_load();
        }
        match self.phase.load(Atomic::Acquire) {
            FAILED => Err(StoreError::Corrupt(lock(&self.failure).clone())),
            _ => Ok(()),
        }
    }

    fn wait_for_load(&self) {
        let mut pending = lock(&self.pending);
        let Some(load) = pending.take() else {
            return;
        };
        match load.wait() {
            Ok(rows) => {
                *self.state.write().unwrap_or_else(|p| p.into_inner()) = rows;
                self.phase.store(READY, Atomic::Release);
            }
            Err(e) => {
                tracing::error!(error = %e, "the catalog index could not be loaded");
                *lock(&self.failure) = e.to_string();
                self.phase.store(FAILED, Atomic::Release);
            }
        }
    }

    /// Takes the content of an index loaded afresh (after the database was reopened).
    pub fn replace_with(&self, fresh: CatalogIndex) {
        if let Some(load) = lock(&self.pending).take() {
            load.cancel();
        }
        let rows = std::mem::take(&mut *fresh.write());
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = rows;
        self.phase.store(READY, Atomic::Release);
    }

    /// Every use waits for the load; one that failed leaves the index empty (and `ready` says
    /// why to the callers that can answer an error).
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Rows> {
        if self.phase.load(Atomic::Acquire) == LOADING {
            self.wait_for_load();
        }
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Rows> {
        if self.phase.load(Atomic::Acquire) == LOADING {
            self.wait_for_load();
        }
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn upsert(&self, row: Row) {
        let mut guard = self.write();
        let state = &mut *guard;
        state.by_category.insert(&row);
        match state.rows.binary_search_by_key(&row.id, |r| r.id) {
            Ok(at) => {
                if state.rows[at].name_lower != row.name_lower {
                    state.names.remove(row.id, &state.rows[at].name_lower);
                    state.names.insert(row.id, &row.name_lower);
                }
                let old = std::mem::replace(&mut state.rows[at], row);
                if old.category != state.rows[at].category {
                    state.by_category.remove(old.category, old.id);
                }
            }
            Err(at) => {
                state.names.insert(row.id, &row.name_lower);
                state.rows.insert(at, row);
            }
        }
    }

    pub fn remove(&self, id: ProductId) {
        let mut state = self.write();
        if let Ok(at) = state.rows.binary_search_by_key(&id.get(), |r| r.id) {
            let old = state.rows.remove(at);
            state.names.remove(old.id, &old.name_lower);
            state.by_category.remove(old.category, old.id);
        }
    }

    pub fn set_stock(&self, id: ProductId, stock: u32) {
        let mut guard = self.write();
        let state = &mut *guard;
        if let Ok(at) = state.rows.binary_search_by_key(&id.get(), |r| r.id) {
            let row = &mut state.rows[at];
            row.stock = stock;
            state.by_category.set_stock(row.category, row.id, stock);
        }
    }

    pub fn products_in(&self, category: CategoryId) -> u64 {
        self.read().by_category.count(category.get())
    }

    pub fn len(&self) -> usize {
        self.read().rows.len()
    }

    /// Heap bytes of the search index (for the README's memory figure).
    pub fn search_index_bytes(&self) -> usize {
        self.read().names.heap_bytes()
    }

    /// The total number of matches and the ids on the requested page, in the requested order.
    pub fn query(&self, filter: &ProductFilter, page: PageRequest) -> (u64, Vec<ProductId>) {
        let state = self.read();
        let offset = page.offset() as usize;
        let size = page.size as usize;
        let id_order = matches!(filter.ordering, Ordering::IdAsc | Ordering::IdDesc);
        if let Some(search) = &filter.search {
            let found = state.names.candidates(search);
            let rest = ProductFilter {
                search: None,
                ..filter.clone()
            };
            if rest.filters_nothing() && id_order {
                // Nothing but the search filters: the page is a slice of the ids that hold
                // every word, found without reading a row.
                if found.unchecked.is_empty() {
                    return id_page(&found.ids, filter.ordering, offset, size);
                }
                if let Some(ids) = found.confirmed_ids() {
                    return id_page(&ids, filter.ordering, offset, size);
                }
            }
            let matches: Vec<&Row> = rows_with_ids(&state.rows, &found.ids)
                .filter(|r| r.matches(&rest) && found.confirm(r.id, &r.name_lower))
                .collect();
            return ordered_page(matches, filter.ordering, offset, size);
        }
        if let Some(category) = filter.category {
            if let Some(answer) = state.by_category.page(category, filter, offset, size) {
                return answer;
            }
            let ids = state.by_category.matching_ids(category, filter);
            let matches = rows_with_ids(&state.rows, &ids).collect();
            return ordered_page(matches, filter.ordering, offset, size);
        }
        let id_of = |r: &Row| r.id;
        if filter.filters_nothing() && id_order {
            // The whole catalog in id order: the count is the length, the page a slice.
            let descending = filter.ordering == Ordering::IdDesc;
            let page = page_of(state.rows.iter(), id_of, descending, offset, size);
            return (state.rows.len() as u64, page);
        }
        let matching = state.rows.iter().filter(|r| r.matches(filter));
        match filter.ordering {
            Ordering::IdAsc => take_page(matching.map(id_of), offset, size),
            Ordering::IdDesc => take_page(matching.rev().map(id_of), offset, size),
            ordering => ordered_page(matching.collect(), ordering, offset, size),
        }
    }
}

impl Drop for CatalogIndex {
    fn drop(&mut self) {
        // The loader holds the database open: a store closed during start-up ends it first.
        if let Some(load) = lock(&self.pending).take() {
            load.cancel();
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    fn row(id: u64, category: u64, price: i64, stock: u32, name: &str) -> Row {
        Row {
            id,
            category,
            price,
            stock,
            created: id as i64,
            name_lower: name.into(),
        }
    }

    #[test]
    fn rows_round_trip_through_bytes() {
        let r = row(7, 3, 1999, 4, "blue mug");
        assert_eq!(Row::decode(7, &r.encode()), Some(r));
    }

    #[test]
    fn query_filters_orders_and_pages() {
        let index = CatalogIndex::with(Rows::default(), None, READY);
        for id in 1..=30 {
            index.upsert(row(
                id,
                id % 3,
                (31 - id as i64) * 100,
                (id % 2) as u32,
                &format!("item {id:02}"),
            ));
        }
        let filter = ProductFilter {
            category: Some(CategoryId::new(1)),
            ordering: Ordering::PriceAsc,
            ..Default::default()
        };
        let (count, ids) = index.query(&filter, PageRequest { page: 1, size: 3 });
        assert_eq!(count, 10);
        assert_eq!(
            ids.iter().map(|p| p.get()).collect::<Vec<_>>(),
            vec![28, 25, 22]
        );
        let (_, last) = index.query(&filter, PageRequest { page: 4, size: 3 });
        assert_eq!(last.iter().map(|p| p.get()).collect::<Vec<_>>(), vec![1]);
        index.remove(ProductId::new(28));
        assert_eq!(index.products_in(CategoryId::new(1)), 9);
    }
}

mod by_category;
mod loading;
mod paging;

#[cfg(test)]
mod filter_props;
#[cfg(test)]
mod search_props;
