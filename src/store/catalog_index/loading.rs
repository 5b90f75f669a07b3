//! Reading the index back from the `catalog_rows` tree. At start this runs on its own thread
//! while the server already answers: with 1,000,000 products it takes longer than the rest of
//! start-up together, and only the catalog needs it. The first call that needs the index waits
//! for it, so every answer is complete, and none is held up longer than the read itself.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Instant;

use super::{NameIndex, Row, Rows};
use crate::domain::ids::ProductId;
use crate::store::StoreError;

/// A load running on its own thread.
pub(super) struct Pending {
    answer: mpsc::Receiver<Result<Rows, StoreError>>,
    thread: JoinHandle<()>,
    cancel: Arc<AtomicBool>,
}

impl Pending {
    pub fn start(tree: sled::Tree) -> std::io::Result<Pending> {
        let (send, answer) = mpsc::sync_channel(1);
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = cancel.clone();
        let thread = std::thread::Builder::new()
            .name("orderstream-catalog".into())
            .spawn(move || {
                // Nobody waiting any more is not an error: the store was closed first.
                let _ = send.send(load_rows(&tree, &stop));
            })?;
        Ok(Pending {
            answer,
            thread,
            cancel,
        })
    }

    pub fn wait(self) -> Result<Rows, StoreError> {
        let answer = self.answer.recv();
        let _ = self.thread.join();
        answer.unwrap_or_else(|_| Err(StoreError::Corrupt("the catalog loader stopped".into())))
    }

    /// Stops the load and waits for its thread, which holds the database open until it ends.
    pub fn cancel(self) {
        self.cancel.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

/// Reads every catalog row; the search index is built on a second thread from the names as
/// they are read, so the load waits for it only as long as it runs past the read. A cancelled
/// load answers an empty index that nobody will use.
pub(super) fn load_rows(tree: &sled::Tree, cancel: &AtomicBool) -> Result<Rows, StoreError> {
    let started = Instant::now();
    let (names_out, names_in) = mpsc::sync_channel(8);
    let (read, read_at, built) = std::thread::scope(|scope| {
        let builder = scope.spawn(move || names_of(names_in.into_iter().flatten()));
        let read = read_rows(tree, names_out, cancel);
        (read, started.elapsed(), builder.join())
    });
    let mut rows = read?;
    // The builder cannot fail on a name; if it ever panicked, build here instead.
    rows.names =
        built.unwrap_or_else(|_| names_of(rows.rows.iter().map(|r| (r.id, r.name_lower.clone()))));
    rows.by_category.shrink();
    tracing::info!(
        rows = rows.rows.len(),
        read_ms = read_at.as_millis() as u64,
        search_index_wait_ms = (started.elapsed() - read_at).as_millis() as u64,
        category_lists_mib = rows.by_category.heap_bytes() / (1 << 20),
        "catalog index loaded"
    );
    Ok(rows)
}

/// Names go to the search index builder in chunks, so the channel is not the cost.
const NAME_CHUNK: usize = 4096;

/// Reads the rows in id order, sending each name on to the search index builder.
fn read_rows(
    tree: &sled::Tree,
    names: mpsc::SyncSender<Vec<(u64, Box<str>)>>,
    cancel: &AtomicBool,
) -> Result<Rows, StoreError> {
    let mut rows = Rows::default();
    let mut chunk = Vec::with_capacity(NAME_CHUNK);
    for entry in tree.iter() {
        let (key, value) = entry?;
        let id = ProductId::from_key(&key)
            .ok_or_else(|| StoreError::Corrupt("catalog row key".into()))?;
        let row = Row::decode(id.get(), &value)
            .ok_or_else(|| StoreError::Corrupt("catalog row".into()))?;
        rows.by_category.insert(&row);
        chunk.push((row.id, row.name_lower.clone()));
        if chunk.len() == NAME_CHUNK {
            if cancel.load(Ordering::Relaxed) {
                return Ok(Rows::default());
            }
            // A builder that is gone is noticed by `load_rows` when it joins it.
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
