//! The one writer of responses: callers queue a validated response and wait for the COMMIT
//! that contains it. Queued responses are committed together, in multi-row INSERTs, which is
//! what lets SQLite take thousands of responses a second (`cargo bench -p server --bench
//! submit`; "The submit path" in docs/architecture.md).

use tokio::sync::{mpsc, oneshot};

use super::ServiceError;
use crate::domain::tally::Layout;
use crate::storage::{Db, NewResponse, Outcome};

/// Largest batch committed in one transaction.
const MAX_BATCH: usize = 256;

type Reply = oneshot::Sender<Result<Outcome, String>>;

#[derive(Clone, Debug)]
pub struct ResponseWriter {
    queue: mpsc::Sender<(NewResponse, Reply)>,
}

impl ResponseWriter {
    /// Starts the writer task on the current Tokio runtime; it writes answers of the
    /// questionnaire laid out as `layout`.
    pub fn start(db: Db, layout: Layout) -> Self {
        let (queue, receiver) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, layout, receiver));
        Self { queue }
    }

    /// Whether the writer task still takes responses.
    pub fn is_running(&self) -> bool {
        !self.queue.is_closed()
    }

    /// Stores `response` and says what became of it. Returns only after the transaction that
    /// holds it has committed; with the queue full (the disk is behind), at once with
    /// [`ServiceError::Overloaded`], so that the client sends it again later.
    pub async fn store(&self, response: NewResponse) -> Result<Outcome, ServiceError> {
        let started = std::time::Instant::now();
        let (reply, answer) = oneshot::channel();
        self.queue.try_send((response, reply)).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => ServiceError::Overloaded,
            mpsc::error::TrySendError::Closed(_) => ServiceError::WriterStopped,
        })?;
        let stored = answer.await;
        metrics::histogram!("hailong_submit_seconds").record(started.elapsed().as_secs_f64());
        match stored {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(cause)) => Err(ServiceError::Storage(crate::storage::StorageError::Corrupt(cause))),
            Err(_) => Err(ServiceError::WriterStopped),
        }
    }
}

async fn run(db: Db, layout: Layout, mut receiver: mpsc::Receiver<(NewResponse, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // Waits for one response, then takes whatever else is already queued: no artificial delay,
    // so a lone kiosk is answered at once and a crowd shares transactions.
    while receiver.recv_many(&mut batch, MAX_BATCH).await > 0 {
        metrics::histogram!("hailong_writer_batch_size").record(batch.len() as f64);
        metrics::gauge!("hailong_writer_queue_depth").set(receiver.len() as f64);
        let (responses, replies): (Vec<NewResponse>, Vec<Reply>) = std::mem::take(&mut batch).into_iter().unzip();
        let started = std::time::Instant::now();
        let inserted = db.insert_responses(&responses, &layout).await;
        metrics::histogram!("hailong_writer_commit_seconds").record(started.elapsed().as_secs_f64());
        match inserted {
            Ok(fresh) => {
                count_stored(&responses, &fresh);
                for (reply, new) in replies.into_iter().zip(fresh) {
                    let _ = reply.send(Ok(new));
                }
            }
            Err(error) => {
                tracing::error!(%error, responses = responses.len(), "could not store a batch of responses");
                for reply in replies {
                    let _ = reply.send(Err(error.to_string()));
                }
            }
        }
    }
}

/// Adds the responses stored now (not the repeats) to `hailong_responses_stored_total`, by channel.
pub(crate) fn count_stored(responses: &[NewResponse], outcomes: &[Outcome]) {
    for (response, outcome) in responses.iter().zip(outcomes) {
        if *outcome == Outcome::New {
            metrics::counter!("hailong_responses_stored_total", "channel" => response.channel.as_str()).increment(1);
        }
    }
}
