//! Process-wide identifiers: [`next_ulid`] hands out ULIDs that sort in the order they were made.
//!
//! `Ulid::generate()` draws fresh random bits for every id, so two ids made in the same
//! millisecond sort in random order; audit ids promise to sort by time, and request ids are
//! easier to follow in logs when they do. One shared [`ulid::Generator`] makes every id larger
//! than the one before it, across threads, even when the wall clock steps back.

use std::sync::Mutex;

use ulid::{Generator, Ulid};

static GENERATOR: Mutex<Generator> = Mutex::new(Generator::new());

/// A new ULID, strictly greater than every ULID this process made before it.
pub fn next_ulid() -> Ulid {
    let mut generator = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match generator.generate() {
        Ok(ulid) => ulid,
        // 2^80 ids within one millisecond: carry into the next millisecond, still in order.
        Err(overflow) => overflow.commit_overflow_increment(),
    }
}

#[cfg(test)]
mod tests {
    use super::next_ulid;

    #[test]
    fn ids_made_in_one_millisecond_still_sort_in_order() {
        let ids: Vec<_> = (0..10_000).map(|_| next_ulid()).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
        // The burst certainly shared milliseconds, so the order is not the clock's doing.
        assert!(
            ids.windows(2)
                .any(|pair| pair[0].timestamp_ms() == pair[1].timestamp_ms())
        );
    }

    #[test]
    fn ids_from_many_threads_are_distinct_and_each_thread_sees_them_rise() {
        let threads: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| (0..2_000).map(|_| next_ulid()).collect::<Vec<_>>()))
            .collect();
        let mut all = Vec::new();
        for thread in threads {
            let ids = thread.join().unwrap();
            assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
            all.extend(ids);
        }
        let count = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), count);
    }
}
