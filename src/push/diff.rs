//! The pure part of a window sync: given the events MyTimetable wants and the connector's items
//! found in the window, what to create, update, leave and delete.
//!
//! Invariants (property-tested below):
//! - every wanted event is in exactly one of `creates`, `updates`, `unchanged`;
//! - every found item is kept (as the item of one update or unchanged event) or deleted, never
//!   both, and at most one item is kept per external id: the others are duplicates and deleted;
//! - an item is deleted only when it was found (so only items that carry our property, which the
//!   caller filtered, can be deleted);
//! - an event is unchanged exactly when a kept item carries its content hash.
//!
//! Entry types: [`Found`], [`Plan`], [`plan`].

use std::collections::HashMap;

use crate::push::event::Event;

/// One of the connector's items found in the window: its handle (an item id for the caller)
/// and what our two properties say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found<H> {
    pub handle: H,
    pub external_id: String,
    /// `None` when the item lacks the hash property (written by hand, or half-written).
    pub content_hash: Option<String>,
}

/// What a sync does. Indexes point into the `wanted` slice given to [`plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<H> {
    /// Events with no item.
    pub creates: Vec<usize>,
    /// Events whose item carries another hash, with that item.
    pub updates: Vec<(usize, H)>,
    /// Events whose item carries their hash.
    pub unchanged: Vec<(usize, H)>,
    /// Items of events not wanted, and duplicates.
    pub deletes: Vec<H>,
}

/// Plans a sync of `found` towards `wanted`. The external ids in `wanted` must be distinct
/// (the API refuses a list that repeats one).
pub fn plan<H: Clone>(wanted: &[Event], found: Vec<Found<H>>) -> Plan<H> {
    let hashes: Vec<String> = wanted.iter().map(Event::content_hash).collect();
    let index_of: HashMap<&str, usize> = wanted
        .iter()
        .enumerate()
        .map(|(index, event)| (event.external_id.as_str(), index))
        .collect();
    // For each wanted event, the item kept for it so far.
    let mut kept: Vec<Option<Found<H>>> = vec![None; wanted.len()];
    let mut deletes = Vec::new();
    for item in found {
        let Some(&index) = index_of.get(item.external_id.as_str()) else {
            deletes.push(item.handle);
            continue;
        };
        match &kept[index] {
            None => kept[index] = Some(item),
            Some(current) => {
                // Keep the one that already holds the wanted content, else the first found.
                let item_matches = item.content_hash.as_deref() == Some(hashes[index].as_str());
                let current_matches =
                    current.content_hash.as_deref() == Some(hashes[index].as_str());
                if item_matches && !current_matches {
                    let replaced = kept[index].replace(item);
                    deletes.extend(replaced.map(|found| found.handle));
                } else {
                    deletes.push(item.handle);
                }
            }
        }
    }
    let mut plan = Plan {
        creates: Vec::new(),
        updates: Vec::new(),
        unchanged: Vec::new(),
        deletes,
    };
    for (index, item) in kept.into_iter().enumerate() {
        match item {
            None => plan.creates.push(index),
            Some(item) if item.content_hash.as_deref() == Some(hashes[index].as_str()) => {
                plan.unchanged.push((index, item.handle));
            }
            Some(item) => plan.updates.push((index, item.handle)),
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;
    use crate::push::event::{EventInput, ExternalId};

    fn event(id: &str, subject: &str) -> Event {
        Event::new(
            ExternalId::parse(id).unwrap(),
            EventInput {
                subject: subject.to_owned(),
                start: "2026-12-01T09:00:00+01:00".parse().unwrap(),
                end: "2026-12-01T10:00:00+01:00".parse().unwrap(),
                time_zone: "Europe/Amsterdam".to_owned(),
                location: None,
                body: None,
                categories: Vec::new(),
                is_all_day: false,
                show_as: None,
                reminder_minutes_before_start: None,
            },
        )
        .unwrap()
    }

    fn found(handle: u32, id: &str, hash: Option<String>) -> Found<u32> {
        Found {
            handle,
            external_id: id.to_owned(),
            content_hash: hash,
        }
    }

    #[test]
    fn creates_updates_unchanged_and_deletes() {
        let wanted = vec![event("a", "A"), event("b", "B"), event("c", "C")];
        let plan = plan(
            &wanted,
            vec![
                found(1, "a", Some(wanted[0].content_hash())),
                found(2, "b", Some("v1:old".to_owned())),
                found(3, "gone", Some("v1:x".to_owned())),
            ],
        );
        assert_eq!(plan.creates, vec![2]);
        assert_eq!(plan.updates, vec![(1, 2)]);
        assert_eq!(plan.unchanged, vec![(0, 1)]);
        assert_eq!(plan.deletes, vec![3]);
    }

    #[test]
    fn duplicates_keep_the_item_with_the_wanted_content() {
        let wanted = vec![event("a", "A")];
        let plan = plan(
            &wanted,
            vec![
                found(1, "a", None),
                found(2, "a", Some(wanted[0].content_hash())),
                found(3, "a", Some("v1:old".to_owned())),
            ],
        );
        assert_eq!(plan.unchanged, vec![(0, 2)]);
        let mut deletes = plan.deletes.clone();
        deletes.sort();
        assert_eq!(deletes, vec![1, 3]);
    }

    proptest! {
        #[test]
        fn every_event_and_item_is_accounted_for_once(
            wanted_ids in proptest::collection::btree_set(0u8..12, 0..8),
            items in proptest::collection::vec((0u8..16, any::<bool>()), 0..20),
        ) {
            let wanted: Vec<Event> = wanted_ids
                .iter()
                .map(|id| event(&format!("e{id}"), &format!("S{id}")))
                .collect();
            let found_items: Vec<Found<u32>> = items
                .iter()
                .enumerate()
                .map(|(handle, (id, current))| {
                    let external_id = format!("e{id}");
                    let hash = if *current {
                        Some(event(&external_id, &format!("S{id}")).content_hash())
                    } else {
                        Some("v1:stale".to_owned())
                    };
                    found(handle as u32, &external_id, hash)
                })
                .collect();
            let plan = plan(&wanted, found_items.clone());

            let mut events_seen: Vec<usize> = plan.creates.clone();
            events_seen.extend(plan.updates.iter().map(|(index, _)| *index));
            events_seen.extend(plan.unchanged.iter().map(|(index, _)| *index));
            events_seen.sort();
            prop_assert_eq!(events_seen, (0..wanted.len()).collect::<Vec<_>>());

            let mut handles_seen: Vec<u32> = plan.deletes.clone();
            handles_seen.extend(plan.updates.iter().map(|(_, handle)| *handle));
            handles_seen.extend(plan.unchanged.iter().map(|(_, handle)| *handle));
            handles_seen.sort();
            prop_assert_eq!(handles_seen, (0..found_items.len() as u32).collect::<Vec<_>>());

            // One kept item per event, and an event is created only when none was found.
            let found_ids: HashSet<&str> =
                found_items.iter().map(|item| item.external_id.as_str()).collect();
            for index in &plan.creates {
                prop_assert!(!found_ids.contains(wanted[*index].external_id.as_str()));
            }
            for (index, handle) in &plan.unchanged {
                let item = &found_items[*handle as usize];
                prop_assert_eq!(item.content_hash.clone(), Some(wanted[*index].content_hash()));
            }
            for (index, handle) in &plan.updates {
                let item = &found_items[*handle as usize];
                prop_assert_eq!(&item.external_id, wanted[*index].external_id.as_str());
                // An update is planned only when no found item of that id had the content.
                prop_assert!(found_items.iter().all(|other| other.external_id != item.external_id
                    || other.content_hash != Some(wanted[*index].content_hash())));
            }
        }
    }
}
