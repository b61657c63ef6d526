//! The one writer task and its group commit.
//!
//! SQLite lets one connection write at a time and a durable commit costs an
//! fsync, so every write goes through one task owning one connection. It
//! takes the first queued request, drains what else is queued (up to
//! `MAX_GROUP`), runs them all in one `BEGIN IMMEDIATE` transaction (each
//! request changes rows with one statement, which applies whole or not at
//! all, so one failing request does not undo the others), commits once (one
//! fsync for the group) and only then answers each request: no caller hears
//! "done" before its write is on disk.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use tracing::{Instrument as _, Span};

use super::error::{duplicate, translate};
use super::{ConnectionPragmas, WriteStats, reads, writes};
use crate::domain::{Operation, OperationName};
use crate::observe::Recorder;
use crate::store::spans::write_span;
use crate::store::{Inserted, StoreError, Swapped};

/// The most requests committed together. Bounds how long one transaction
/// holds the write lock and how much a failed commit takes down with it.
const MAX_GROUP: usize = 256;
/// Requests waiting for the writer; senders wait when it is full.
const QUEUE: usize = 1024;

pub(super) type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// One write, with where to send its answer.
pub(super) enum Request {
    Insert(Operation, Reply<Inserted>),
    /// Many new operations in one statement (`SqliteStore::import`).
    Import(Vec<Operation>, Reply<u64>),
    Swap(Operation, Reply<Swapped>),
    Delete(OperationName, Reply<bool>),
    PurgeExpired {
        now: i64,
        limit: u32,
        reply: Reply<u64>,
    },
    PageTokenKey {
        candidate: [u8; 32],
        reply: Reply<[u8; 32]>,
    },
    /// Reads the writer connection's settings (diagnostics).
    Pragmas(Reply<ConnectionPragmas>),
}

enum Message {
    /// Boxed: an `Operation` is large and the queue holds many messages.
    /// The span is the caller's `store.write` (none with traces off): the
    /// group commit that writes it is its child or links to it.
    Write(Box<Request>, Span),
    /// Finish what was queued before this, then stop.
    Close(oneshot::Sender<()>),
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    writes: AtomicU64,
}

/// The handle the store keeps; the task ends when it is closed or dropped.
pub(super) struct Writer {
    queue: mpsc::Sender<Message>,
    counters: Arc<Counters>,
    recorder: Recorder,
}

impl Writer {
    pub(super) fn spawn(conn: SqliteConnection, recorder: Recorder) -> Self {
        let (queue, inbox) = mpsc::channel(QUEUE);
        let counters = Arc::new(Counters::default());
        tokio::spawn(run(conn, inbox, Arc::clone(&counters), recorder.clone()));
        Self {
            queue,
            counters,
            recorder,
        }
    }

    /// Queues a write and waits until its group is committed.
    pub(super) async fn submit<T>(
        &self,
        request: impl FnOnce(Reply<T>) -> Request,
    ) -> Result<T, StoreError> {
        let started = self.recorder.is_on().then(std::time::Instant::now);
        let (reply, answer) = oneshot::channel();
        let request = request(reply);
        let span = write_span(&self.recorder, "sqlite", request.operation());
        let message = Message::Write(Box::new(request), span.clone());
        let written = async {
            self.queue
                .send(message)
                .await
                .map_err(|_| StoreError::Closed)?;
            // A dropped reply means the writer stopped without answering.
            answer.await.unwrap_or(Err(StoreError::Closed))
        };
        let answer = written.instrument(span).await;
        if let Some(started) = started {
            self.recorder.store_write(started.elapsed());
        }
        answer
    }

    /// Commits everything queued so far, then stops the task and closes its
    /// connection. Later writes get `Closed`.
    pub(super) async fn close(&self) {
        let (done, stopped) = oneshot::channel();
        if self.queue.send(Message::Close(done)).await.is_ok() {
            // An error means the task is gone already, which is what we want.
            let _ = stopped.await;
        }
    }

    pub(super) fn stats(&self) -> WriteStats {
        WriteStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
        }
    }
}

async fn run(
    mut conn: SqliteConnection,
    mut inbox: mpsc::Receiver<Message>,
    counters: Arc<Counters>,
    recorder: Recorder,
) {
    let mut batch = VecDeque::with_capacity(MAX_GROUP);
    // The callers' spans of the requests taken into the group (only those
    // traced).
    let mut spans = Vec::new();
    let mut closing = None;
    loop {
        if batch.is_empty() && closing.is_none() {
            match inbox.recv().await {
                Some(Message::Write(request, span)) => take(request, span, &mut batch, &mut spans),
                Some(Message::Close(done)) => closing = Some(done),
                // Every handle is gone: nobody can be waiting.
                None => break,
            }
        }
        while closing.is_none() && batch.len() < MAX_GROUP {
            match inbox.try_recv() {
                Ok(Message::Write(request, span)) => take(request, span, &mut batch, &mut spans),
                Ok(Message::Close(done)) => closing = Some(done),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            let group = group_span(&spans, batch.len());
            spans.clear();
            commit_group(&mut conn, &mut batch, &counters, &recorder)
                .instrument(group)
                .await;
            continue;
        }
        if let Some(done) = closing.take() {
            // Whatever raced in after the close request is refused.
            inbox.close();
            while let Ok(message) = inbox.try_recv() {
                match message {
                    Message::Write(request, _) => request.fail(&StoreError::Closed),
                    Message::Close(other) => {
                        let _ = other.send(());
                    }
                }
            }
            close_connection(conn).await;
            let _ = done.send(());
            return;
        }
    }
    close_connection(conn).await;
}

fn take(request: Box<Request>, span: Span, batch: &mut VecDeque<Request>, spans: &mut Vec<Span>) {
    batch.push_back(*request);
    if !span.is_none() {
        spans.push(span);
    }
}

/// `store.group_commit`: a child of the first traced request's
/// `store.write`, following from the others' (a span has one parent; the
/// other writes of the group are links). None when no request is traced.
fn group_span(spans: &[Span], writes: usize) -> Span {
    let Some((first, others)) = spans.split_first() else {
        return Span::none();
    };
    let group = tracing::debug_span!(
        parent: first,
        "store.group_commit",
        db.system.name = "sqlite",
        longrun.writes = writes,
    );
    for other in others {
        group.follows_from(other);
    }
    group
}

async fn close_connection(conn: SqliteConnection) {
    if let Err(err) = conn.close().await {
        tracing::warn!(error = %err, "closing the sqlite writer connection failed");
    }
}

/// Runs requests from the front of `batch` in one transaction and answers
/// them after the commit. Requests left in `batch` (after a failure that
/// broke the transaction) go into the next group.
async fn commit_group(
    conn: &mut SqliteConnection,
    batch: &mut VecDeque<Request>,
    counters: &Counters,
    recorder: &Recorder,
) {
    // IMMEDIATE takes the write lock now, waiting up to the busy timeout;
    // a deferred BEGIN could fail with SQLITE_BUSY at its first write.
    //
    // The transaction is plain SQL rather than sqlx's `Transaction`: sqlx
    // counts nesting itself and keeps counting a transaction that SQLite
    // already rolled back (after an I/O error, say), refusing every later
    // BEGIN. A plain `ROLLBACK` after any failure always leaves the
    // connection outside a transaction, whatever state it was in.
    if let Err(err) = execute(conn, "BEGIN IMMEDIATE").await {
        for request in batch.drain(..) {
            request.fail(&err);
        }
        return;
    }
    let mut answers = Vec::with_capacity(batch.len());
    let mut lost = None;
    while let Some(request) = batch.pop_front() {
        let answer = request.apply(conn).await;
        let failed = !answer.ok;
        answers.push(answer);
        if failed && !transaction_alive(conn).await {
            // What ran before is gone with the transaction; the rest of the
            // batch waits for the next group.
            lost = Some(StoreError::Unavailable(
                "SQLite rolled back the write transaction after an error".into(),
            ));
            break;
        }
    }
    let committed = match lost {
        None => execute(conn, "COMMIT").await,
        Some(err) => Err(err),
    };
    if committed.is_ok() {
        counters.commits.fetch_add(1, Ordering::Relaxed);
        recorder.commit_group(answers.len());
        let succeeded = answers.iter().filter(|answer| answer.ok).count();
        let count = u64::try_from(succeeded).unwrap_or(u64::MAX);
        counters.writes.fetch_add(count, Ordering::Relaxed);
    } else {
        // Fails harmlessly when SQLite has ended the transaction already.
        let _ = execute(conn, "ROLLBACK").await;
    }
    for answer in answers {
        answer.deliver(committed.as_ref().err());
    }
}

/// After a failed request: is the group's transaction still open? Every
/// request changes rows with at most one statement and SQLite undoes a failed
/// statement on its own, so usually it is; but some errors (I/O, a full
/// disk) make SQLite roll the whole transaction back. A `BEGIN` tells: it
/// fails inside a transaction and succeeds outside one.
async fn transaction_alive(conn: &mut SqliteConnection) -> bool {
    match execute(conn, "BEGIN").await {
        Err(_) => true,
        Ok(()) => {
            let _ = execute(conn, "ROLLBACK").await;
            false
        }
    }
}

async fn execute(conn: &mut SqliteConnection, statement: &'static str) -> Result<(), StoreError> {
    sqlx::query(statement)
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(translate)
}

/// Sends a held result, or the group's commit failure instead.
type Deliver = Box<dyn FnOnce(Option<&StoreError>) + Send>;

/// A request's result, held until the group's commit decides its fate.
struct Answer {
    ok: bool,
    deliver: Deliver,
}

impl Answer {
    fn new<T: Send + 'static>(reply: Reply<T>, result: Result<T, StoreError>) -> Self {
        Self {
            ok: result.is_ok(),
            deliver: Box::new(move |commit_failure| {
                let result = match (result, commit_failure) {
                    (Ok(_), Some(err)) => Err(duplicate(err)),
                    (result, _) => result,
                };
                // The caller may have given up; its write stands all the same.
                let _ = reply.send(result);
            }),
        }
    }

    /// Sends the result, or the commit's failure if the group did not commit.
    fn deliver(self, commit_failure: Option<&StoreError>) {
        (self.deliver)(commit_failure);
    }
}

impl Request {
    /// What the write is, for its trace span.
    fn operation(&self) -> &'static str {
        match self {
            Request::Insert(..) => "insert",
            Request::Import(..) => "import",
            Request::Swap(..) => "swap",
            Request::Delete(..) => "delete",
            Request::PurgeExpired { .. } => "purge_expired",
            Request::PageTokenKey { .. } => "page_token_key",
            Request::Pragmas(_) => "pragmas",
        }
    }

    async fn apply(self, conn: &mut SqliteConnection) -> Answer {
        match self {
            Request::Insert(op, reply) => Answer::new(reply, writes::insert(conn, &op).await),
            Request::Import(ops, reply) => Answer::new(reply, writes::import(conn, &ops).await),
            Request::Swap(op, reply) => Answer::new(reply, writes::swap(conn, &op).await),
            Request::Delete(name, reply) => Answer::new(reply, writes::delete(conn, &name).await),
            Request::PurgeExpired { now, limit, reply } => {
                Answer::new(reply, writes::purge_expired(conn, now, limit).await)
            }
            Request::PageTokenKey { candidate, reply } => {
                Answer::new(reply, writes::page_token_key(conn, candidate).await)
            }
            Request::Pragmas(reply) => Answer::new(reply, reads::pragmas(&mut *conn).await),
        }
    }

    fn failed(self, err: StoreError) -> Answer {
        match self {
            Request::Insert(_, reply) => Answer::new(reply, Err(err)),
            Request::Import(_, reply) => Answer::new(reply, Err(err)),
            Request::Swap(_, reply) => Answer::new(reply, Err(err)),
            Request::Delete(_, reply) => Answer::new(reply, Err(err)),
            Request::PurgeExpired { reply, .. } => Answer::new(reply, Err(err)),
            Request::PageTokenKey { reply, .. } => Answer::new(reply, Err(err)),
            Request::Pragmas(reply) => Answer::new(reply, Err(err)),
        }
    }

    fn fail(self, err: &StoreError) {
        self.failed(duplicate(err)).deliver(None);
    }
}
