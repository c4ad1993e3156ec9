//! The one way this crate uses a second thread: two halves of a job, one here and one on a scoped
//! worker, both results returned. The reader splits large documents with it, the resolver large
//! schemas and the per-type facts.

/// Runs `here` on this thread and `there` on a worker (or both here, one after the other, when
/// `parallel` is false), returning both results. A panic on the worker is resumed on this thread.
pub(crate) fn join<A, B: Send>(
    parallel: bool,
    here: impl FnOnce() -> A,
    there: impl FnOnce() -> B + Send,
) -> (A, B) {
    if !parallel {
        let a = here();
        return (a, there());
    }
    std::thread::scope(|threads| {
        let worker = threads.spawn(there);
        let a = here();
        let b = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a, b)
    })
}
