//! Work on the parts of a table (Parquet row groups) as parallel pool tasks, taken in order.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::mpsc::channel;
use std::sync::Arc;

use super::{Part, CHUNK_ROWS};

/// Rows that may be decoded and not yet taken, at most, across all parts in flight.
pub const ROWS_IN_FLIGHT: u64 = 16 * CHUNK_ROWS as u64;

/// How many parts may be started and not yet taken, or `None` when the parts are too big to
/// decode whole (a row group of millions of rows): then the table is better streamed. Enough
/// parts to keep every thread busy while the taker works, few enough that at most
/// [`ROWS_IN_FLIGHT`] rows are decoded ahead.
pub fn ahead(parts: &[&[Part]]) -> Option<usize> {
    let biggest = parts
        .iter()
        .flat_map(|p| p.iter())
        .map(|p| p.rows)
        .max()
        .unwrap_or(0)
        .max(1);
    let fit = ROWS_IN_FLIGHT / biggest;
    (fit >= 1).then(|| ((rayon::current_num_threads() * 2).max(2)).min(fit as usize))
}

/// Runs `work` on every item as rayon pool tasks and hands the results to `take` in the items'
/// order, so the same results arrive in the same order at any thread count. A new task starts
/// as each result is taken, with never more than `ahead` started and not yet taken, so memory
/// stays bounded and no thread waits for a whole window to finish.
///
/// A panic in a task is a bug: it is raised again here, where its result would be taken. An
/// error from `take` stops the run (tasks already started finish, and their results are
/// dropped). Called from a pool thread, which must not block waiting for the pool, the items
/// are worked one after another on that thread.
pub fn in_order<I, T, E>(
    items: Vec<I>,
    ahead: usize,
    work: impl Fn(I) -> T + Send + Sync + 'static,
    mut take: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E>
where
    I: Send + 'static,
    T: Send + 'static,
{
    if rayon::current_thread_index().is_some() {
        for item in items {
            take(work(item))?;
        }
        return Ok(());
    }
    let work = Arc::new(work);
    let (tx, rx) = channel();
    let total = items.len();
    let mut queue = items.into_iter().enumerate();
    let mut launch = || {
        if let Some((n, item)) = queue.next() {
            let (tx, work) = (tx.clone(), work.clone());
            rayon::spawn(move || {
                let r = catch_unwind(AssertUnwindSafe(|| work(item)));
                // The receiver is gone only when the taker stopped on an error.
                let _ = tx.send((n, r));
            });
        }
    };
    for _ in 0..ahead.max(1) {
        launch();
    }
    let mut ready = BTreeMap::new();
    let mut next = 0usize;
    while next < total {
        // Every task sends exactly once (a panic is caught and sent), and a sender lives in
        // `launch` until this function returns: recv ends only with a message.
        let Ok((n, r)) = rx.recv() else {
            unreachable!("a sender outlives the loop")
        };
        ready.insert(n, r);
        while let Some(r) = ready.remove(&next) {
            take(r.unwrap_or_else(|p| resume_unwind(p)))?;
            next += 1;
            launch();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_item_order_whatever_order_tasks_finish_in() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        let items: Vec<u64> = (0..40).collect();
        let mut got = Vec::new();
        // The pool must not be the caller's: install runs on a pool thread, so spawn a thread.
        std::thread::scope(|s| {
            s.spawn(|| {
                pool.install(|| {
                    // Inside install, the caller is a pool thread: the sequential path.
                    let mut seq = Vec::new();
                    in_order(
                        items.clone(),
                        3,
                        |i| i * 2,
                        |x| -> Result<(), ()> {
                            seq.push(x);
                            Ok(())
                        },
                    )
                    .unwrap();
                    assert_eq!(seq, (0..40).map(|i| i * 2).collect::<Vec<_>>());
                });
            });
        });
        // From outside any pool: tasks sleep in reverse order so later items finish first.
        in_order(
            items,
            8,
            |i| {
                std::thread::sleep(std::time::Duration::from_millis(40 - i));
                i
            },
            |x| -> Result<(), ()> {
                got.push(x);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(got, (0..40).collect::<Vec<_>>());
    }

    #[test]
    fn never_more_than_ahead_items_are_started_and_not_taken() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let started = Arc::new(AtomicUsize::new(0));
        let taken = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (s, t, p) = (started.clone(), taken.clone(), peak.clone());
        let mut seen = 0;
        in_order(
            (0..60u64).collect(),
            3,
            move |i| {
                let now = s.fetch_add(1, Ordering::SeqCst) + 1 - t.load(Ordering::SeqCst);
                p.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(i % 3));
                i
            },
            |i| -> Result<(), ()> {
                assert_eq!(i, seen);
                seen += 1;
                taken.fetch_add(1, Ordering::SeqCst);
                // The taker is slow: tasks would run far ahead if nothing held them.
                std::thread::sleep(std::time::Duration::from_millis(2));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, 60);
        let peak = peak.load(Ordering::SeqCst);
        assert!((1..=3).contains(&peak), "{peak} items in flight");
    }

    #[test]
    fn parts_too_big_to_decode_whole_are_streamed() {
        let part = |rows: u64| Part {
            rows,
            read: Box::new(|| Ok(Vec::new())),
        };
        let small = vec![part(1000), part(CHUNK_ROWS as u64)];
        let a = ahead(&[&small]).expect("small parts go in parallel");
        assert!(a >= 2);
        let exact = vec![part(ROWS_IN_FLIGHT)];
        assert_eq!(ahead(&[&small, &exact]), Some(1));
        let big = vec![part(ROWS_IN_FLIGHT + 1)];
        assert_eq!(ahead(&[&small, &big]), None);
        assert!(ahead(&[&[]]).is_some());
    }

    #[test]
    fn an_error_from_the_taker_stops_the_run() {
        let mut taken = 0;
        let r = in_order(
            (0..100u32).collect(),
            4,
            |i| i,
            |x| {
                taken += 1;
                if x == 5 {
                    Err(x)
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(r, Err(5));
        assert_eq!(taken, 6);
    }

    #[test]
    fn a_panicking_task_is_raised_again_in_the_taker() {
        let r = std::panic::catch_unwind(|| {
            in_order(
                (0..10u32).collect(),
                4,
                |i| {
                    assert!(i != 3, "task 3 fails");
                    i
                },
                |_| -> Result<(), ()> { Ok(()) },
            )
        });
        let msg = r.unwrap_err();
        let msg = msg
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| msg.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap();
        assert!(msg.contains("task 3 fails"), "{msg}");
    }
}
