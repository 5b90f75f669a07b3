//! Group commit: one flush thread serves every writer waiting at that moment, so durability
//! costs one fsync per batch rather than one per order.
use std::sync::mpsc;
use tokio::sync::oneshot;

use super::StoreError;

type Waiter = oneshot::Sender<Result<(), String>>;

pub struct GroupCommit {
    requests: Option<mpsc::Sender<Waiter>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for GroupCommit {
    /// Joins the flush thread so its database handle is gone when the store is: a restart in
    /// the same process can then reopen the directory at once.
    fn drop(&mut self) {
        self.requests.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl GroupCommit {
    /// `on_fault` is poked when a flush fails, so recovery need not wait for its next look.
    pub fn start(db: sled::Db, on_fault: mpsc::Sender<()>) -> GroupCommit {
        let (requests, inbox) = mpsc::channel::<Waiter>();
        let thread = std::thread::Builder::new()
            .name("orderstream-flush".into())
            .spawn(move || {
                // The thread ends when every Store handle (and so every sender) is gone.
                while let Ok(first) = inbox.recv() {
                    let mut batch = vec![first];
                    batch.extend(inbox.try_iter());
                    let outcome = db.flush().map(|_| ()).map_err(|e| e.to_string());
                    if outcome.is_err() {
                        let _ = on_fault.send(());
                    }
                    for waiter in batch {
                        let _ = waiter.send(outcome.clone());
                    }
                }
            })
            .expect("spawn flush thread");
        GroupCommit {
            requests: Some(requests),
            thread: Some(thread),
        }
    }

    pub async fn wait(&self) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        let requests = self
            .requests
            .as_ref()
            .ok_or_else(|| StoreError::Io("flush thread stopped".into()))?;
        requests
            .send(tx)
            .map_err(|_| StoreError::Io("flush thread stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Io("flush thread stopped".into()))?
            .map_err(StoreError::Io)
    }
}
