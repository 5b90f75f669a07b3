//! The product list index: one compact row per product, loaded from the `catalog_rows` tree at
//! start and updated under the catalog write lock after each commit. A filtered page is a scan
//! over ~56 bytes a product in memory, so it costs milliseconds even with 1,000,000 products,
//! and `count` comes for free with it. A search first asks the trigram index beside the rows
//! (`name_index`, same lock, same writes) which products can match, and scans only those.
use std::collections::HashMap;
use std::sync::RwLock;

use super::name_index::NameIndex;
use super::StoreError;
use crate::domain::catalog::{Ordering, PageRequest, ProductFilter};
use crate::domain::ids::{CategoryId, ProductId};
use crate::domain::money::Money;
use paging::{id_page, ordered_page, rows_with_ids};

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
    per_category: HashMap<u64, u64>,
    names: NameIndex,
}

pub struct CatalogIndex {
    state: RwLock<Rows>,
}

impl CatalogIndex {
    /// Reads every catalog row; the search index is built on a second thread from the names
    /// as they are read, so start-up waits for it only as long as it runs past the read.
    pub fn load(tree: &sled::Tree) -> Result<CatalogIndex, StoreError> {
        let started = std::time::Instant::now();
        let (names_out, names_in) = std::sync::mpsc::sync_channel(8);
        let (read, read_at, built) = std::thread::scope(|scope| {
            let builder = scope.spawn(move || names_of(names_in.into_iter().flatten()));
            let read = read_rows(tree, names_out);
            (read, started.elapsed(), builder.join())
        });
        let mut rows = read?;
        // The builder cannot fail on a name; if it ever panicked, build here instead.
        rows.names = built
            .unwrap_or_else(|_| names_of(rows.rows.iter().map(|r| (r.id, r.name_lower.clone()))));
        tracing::info!(
            rows = rows.rows.len(),
            read_ms = read_at.as_millis() as u64,
            search_index_wait_ms = (started.elapsed() - read_at).as_millis() as u64,
            "catalog index loaded"
        );
        Ok(CatalogIndex {
            state: RwLock::new(rows),
        })
    }

    /// Takes the content of an index loaded afresh (after the database was reopened).
    pub fn replace_with(&self, fresh: CatalogIndex) {
        let rows = fresh.state.into_inner().unwrap_or_else(|p| p.into_inner());
        *self.write() = rows;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Rows> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Rows> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn upsert(&self, row: Row) {
        let mut guard = self.write();
        let state = &mut *guard;
        *state.per_category.entry(row.category).or_default() += 1;
        match state.rows.binary_search_by_key(&row.id, |r| r.id) {
            Ok(at) => {
                if state.rows[at].name_lower != row.name_lower {
                    state.names.remove(row.id, &state.rows[at].name_lower);
                    state.names.insert(row.id, &row.name_lower);
                }
                let old = std::mem::replace(&mut state.rows[at], row);
                decrement(&mut state.per_category, old.category);
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
            decrement(&mut state.per_category, old.category);
        }
    }

    pub fn set_stock(&self, id: ProductId, stock: u32) {
        let mut state = self.write();
        if let Ok(at) = state.rows.binary_search_by_key(&id.get(), |r| r.id) {
            state.rows[at].stock = stock;
        }
    }

    pub fn products_in(&self, category: CategoryId) -> u64 {
        self.read()
            .per_category
            .get(&category.get())
            .copied()
            .unwrap_or(0)
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
        if let Some(search) = &filter.search {
            let found = state.names.candidates(search);
            let rest = ProductFilter {
                search: None,
                ..filter.clone()
            };
            let only_search = ProductFilter {
                ordering: Ordering::IdAsc,
                ..rest.clone()
            } == ProductFilter::default();
            let id_order = matches!(filter.ordering, Ordering::IdAsc | Ordering::IdDesc);
            if only_search && id_order {
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
        let take_page = |matches: &mut dyn Iterator<Item = &Row>| {
            let mut count = 0u64;
            let mut ids = Vec::with_capacity(size);
            for row in matches {
                if (count as usize) >= offset && ids.len() < size {
                    ids.push(ProductId::new(row.id));
                }
                count += 1;
            }
            (count, ids)
        };
        match filter.ordering {
            Ordering::IdAsc => take_page(&mut state.rows.iter().filter(|r| r.matches(filter))),
            Ordering::IdDesc => {
                take_page(&mut state.rows.iter().rev().filter(|r| r.matches(filter)))
            }
            ordering => {
                let matches = state.rows.iter().filter(|r| r.matches(filter)).collect();
                ordered_page(matches, ordering, offset, size)
            }
        }
    }
}

/// Names go to the search index builder in chunks, so the channel is not the cost.
const NAME_CHUNK: usize = 4096;

/// Reads the rows in id order, sending each name on to the search index builder.
fn read_rows(
    tree: &sled::Tree,
    names: std::sync::mpsc::SyncSender<Vec<(u64, Box<str>)>>,
) -> Result<Rows, StoreError> {
    let mut rows = Rows::default();
    let mut chunk = Vec::with_capacity(NAME_CHUNK);
    for entry in tree.iter() {
        let (key, value) = entry?;
        let id = ProductId::from_key(&key)
            .ok_or_else(|| StoreError::Corrupt("catalog row key".into()))?;
        let row = Row::decode(id.get(), &value)
            .ok_or_else(|| StoreError::Corrupt("catalog row".into()))?;
        *rows.per_category.entry(row.category).or_default() += 1;
        chunk.push((row.id, row.name_lower.clone()));
        if chunk.len() == NAME_CHUNK {
            // A builder that is gone is noticed by `load` when it joins it.
            let _ = names.send(std::mem::replace(
                &mut chunk,
                Vec::with_capacity(NAME_CHUNK),
            ));
        }
        rows.rows.push(row);
    }
    let _ = names.send(chunk);
    Ok(rows)
}

fn names_of(names: impl Iterator<Item = (u64, Box<str>)>) -> NameIndex {
    let mut index = NameIndex::default();
    for (id, name) in names {
        index.insert(id, &name);
    }
    index.shrink();
    index
}

fn decrement(counts: &mut HashMap<u64, u64>, category: u64) {
    if let Some(n) = counts.get_mut(&category) {
        *n -= 1;
        if *n == 0 {
            counts.remove(&category);
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
        let index = CatalogIndex {
            state: RwLock::new(Rows::default()),
        };
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

mod paging;

#[cfg(test)]
mod search_props;
