//! The event model: what MyTimetable asks to be in a calendar, validated before anything
//! reaches Exchange, and the hash of its content that is stored with the item.
//!
//! Invariants:
//! - an [`Event`] exists only validated: every rule below holds, and an [`InvalidEvent`] names
//!   the field (in API.md's camelCase) that breaks one;
//! - the [`Event::content_hash`] depends only on what the connector writes (instants, not the
//!   offsets they were written with), so the same content sent twice hashes the same.
//!
//! The rules, each checked before any EWS call:
//! - `externalId`: 1 to [`MAX_EXTERNAL_ID`] characters of `A-Z a-z 0-9 - . _ ~ : @ + =`
//!   (safe in a URL path segment without escaping);
//! - `subject`: not blank, at most [`MAX_SUBJECT`] characters; `location` at most
//!   [`MAX_LOCATION`]; `body` at most [`MAX_BODY`]; at most [`MAX_CATEGORIES`] categories of 1 to
//!   [`MAX_LOCATION`] characters; no control characters (the body may hold tabs and line breaks);
//! - `start` < `end`, at most [`MAX_DURATION_DAYS`] days apart;
//! - `timeZone`: an IANA zone with a Windows id ([`Zone`]);
//! - `isAllDay`: `start` and `end` must both be midnight in `timeZone` (they are refused, not
//!   moved: a caller that sends 09:00 for an all-day event has a bug worth seeing);
//! - `showAs`: `Free`, `Tentative`, `Busy` (the default), `Oof` (or `OOF`), `WorkingElsewhere`;
//! - `reminderMinutesBeforeStart`: absent (no reminder) or 0 to [`MAX_REMINDER_MINUTES`].
//!
//! Entry types: [`Event`], [`EventInput`], [`ExternalId`], [`ShowAs`], [`InvalidEvent`].

use chrono::{DateTime, FixedOffset, TimeDelta, Timelike, Utc};
use sha2::{Digest, Sha256};

use crate::domain::tz::Zone;

/// The longest external id, in characters.
pub const MAX_EXTERNAL_ID: usize = 200;
/// Exchange's own limit for a subject.
pub const MAX_SUBJECT: usize = 255;
/// The longest location and category, in characters.
pub const MAX_LOCATION: usize = 255;
/// The longest body, in characters.
pub const MAX_BODY: usize = 32 * 1024;
/// The most categories on one event.
pub const MAX_CATEGORIES: usize = 25;
/// The longest event (Exchange allows five years; a timetable never needs more than one).
pub const MAX_DURATION_DAYS: i64 = 366;
/// The earliest reminder: two weeks, as far as Outlook offers.
pub const MAX_REMINDER_MINUTES: u32 = 20_160;

/// A field that breaks a rule, and which rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the field `{field}` {reason}")]
pub struct InvalidEvent {
    /// The field's JSON name, such as `end` or `events[3].timeZone`.
    pub field: String,
    pub reason: String,
}

impl InvalidEvent {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> InvalidEvent {
        InvalidEvent {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The same error for a field inside a list item: `events[3].` before the field.
    pub fn within(mut self, prefix: &str) -> InvalidEvent {
        self.field = format!("{prefix}{}", self.field);
        self
    }
}

/// MyTimetable's id of an event, the key of every push.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExternalId(String);

impl ExternalId {
    /// # Errors
    /// When the id is empty, too long, or holds a character outside the allowed set; the
    /// error names the field `externalId`.
    pub fn parse(raw: &str) -> Result<ExternalId, InvalidEvent> {
        let allowed =
            |character: char| character.is_ascii_alphanumeric() || "-._~:@+=".contains(character);
        if raw.is_empty() {
            return Err(InvalidEvent::new("externalId", "must not be empty"));
        }
        if raw.chars().count() > MAX_EXTERNAL_ID {
            return Err(InvalidEvent::new(
                "externalId",
                format!("must be at most {MAX_EXTERNAL_ID} characters"),
            ));
        }
        if let Some(bad) = raw.chars().find(|character| !allowed(*character)) {
            return Err(InvalidEvent::new(
                "externalId",
                format!("holds {bad:?}; only letters, digits and - . _ ~ : @ + = are allowed"),
            ));
        }
        Ok(ExternalId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ExternalId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// How the event shows in free/busy (Exchange's `LegacyFreeBusyStatus`, without `NoData`,
/// which is only ever read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShowAs {
    Free,
    Tentative,
    #[default]
    Busy,
    Oof,
    WorkingElsewhere,
}

impl ShowAs {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ShowAs::Free => "Free",
            ShowAs::Tentative => "Tentative",
            ShowAs::Busy => "Busy",
            ShowAs::Oof => "Oof",
            ShowAs::WorkingElsewhere => "WorkingElsewhere",
        }
    }

    fn parse(raw: &str) -> Option<ShowAs> {
        Some(match raw {
            "Free" => ShowAs::Free,
            "Tentative" => ShowAs::Tentative,
            "Busy" => ShowAs::Busy,
            "Oof" | "OOF" => ShowAs::Oof,
            "WorkingElsewhere" => ShowAs::WorkingElsewhere,
            _ => return None,
        })
    }
}

/// An event as the API received it, before validation. `api` fills it from JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventInput {
    pub subject: String,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    /// An IANA zone name.
    pub time_zone: String,
    pub location: Option<String>,
    /// Plain text.
    pub body: Option<String>,
    pub categories: Vec<String>,
    pub is_all_day: bool,
    /// `None` means `Busy`.
    pub show_as: Option<String>,
    /// `None` means no reminder.
    pub reminder_minutes_before_start: Option<i64>,
}

/// A validated event: what the connector writes to the calendar for one external id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub external_id: ExternalId,
    pub subject: String,
    /// The instants; the offsets they came with are not kept.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub zone: Zone,
    /// `None` for none (an empty string is none too).
    pub location: Option<String>,
    pub body: Option<String>,
    pub categories: Vec<String>,
    pub is_all_day: bool,
    pub show_as: ShowAs,
    pub reminder_minutes_before_start: Option<u32>,
}

impl Event {
    /// Validates `input` for `external_id`.
    ///
    /// # Errors
    /// The first rule broken, naming its field (see the module doc).
    pub fn new(external_id: ExternalId, input: EventInput) -> Result<Event, InvalidEvent> {
        let subject = input.subject.trim().to_owned();
        if subject.is_empty() {
            return Err(InvalidEvent::new("subject", "must not be blank"));
        }
        check_text("subject", &subject, MAX_SUBJECT, false)?;
        let location = non_empty(input.location);
        if let Some(location) = &location {
            check_text("location", location, MAX_LOCATION, false)?;
        }
        let body = non_empty(input.body);
        if let Some(body) = &body {
            check_text("body", body, MAX_BODY, true)?;
        }
        if input.categories.len() > MAX_CATEGORIES {
            return Err(InvalidEvent::new(
                "categories",
                format!("must hold at most {MAX_CATEGORIES} categories"),
            ));
        }
        for (index, category) in input.categories.iter().enumerate() {
            let field = format!("categories[{index}]");
            if category.trim().is_empty() {
                return Err(InvalidEvent::new(field, "must not be blank"));
            }
            check_text(&field, category, MAX_LOCATION, false)?;
        }

        let zone = Zone::parse(&input.time_zone).map_err(|error| {
            InvalidEvent::new("timeZone", format!("names an unknown zone: {error}"))
        })?;
        let start = input.start.with_timezone(&Utc);
        let end = input.end.with_timezone(&Utc);
        if end <= start {
            return Err(InvalidEvent::new("end", "must be after `start`"));
        }
        if end - start > TimeDelta::days(MAX_DURATION_DAYS) {
            return Err(InvalidEvent::new(
                "end",
                format!("must be at most {MAX_DURATION_DAYS} days after `start`"),
            ));
        }
        if input.is_all_day {
            for (field, instant) in [("start", start), ("end", end)] {
                let local = instant.with_timezone(&zone.iana);
                if local.num_seconds_from_midnight() != 0 || local.nanosecond() != 0 {
                    return Err(InvalidEvent::new(
                        field,
                        format!(
                            "must be midnight in {} for an all-day event (it is {})",
                            zone.name(),
                            local.format("%Y-%m-%dT%H:%M:%S%:z")
                        ),
                    ));
                }
            }
        }
        let show_as = match input.show_as.as_deref() {
            None => ShowAs::Busy,
            Some(raw) => ShowAs::parse(raw).ok_or_else(|| {
                InvalidEvent::new(
                    "showAs",
                    format!("is `{raw}`; use Free, Tentative, Busy, Oof or WorkingElsewhere"),
                )
            })?,
        };
        let reminder_minutes_before_start = match input.reminder_minutes_before_start {
            None => None,
            Some(minutes) if (0..=i64::from(MAX_REMINDER_MINUTES)).contains(&minutes) => {
                Some(minutes as u32)
            }
            Some(_) => {
                return Err(InvalidEvent::new(
                    "reminderMinutesBeforeStart",
                    format!("must be between 0 and {MAX_REMINDER_MINUTES}"),
                ));
            }
        };
        Ok(Event {
            external_id,
            subject,
            start,
            end,
            zone,
            location,
            body,
            categories: input.categories,
            is_all_day: input.is_all_day,
            show_as,
            reminder_minutes_before_start,
        })
    }

    /// The hash of everything the connector writes for this event, stored beside it as the
    /// `ContentHash` property: `v1:` and 64 hex digits of SHA-256 over the fields, each
    /// length-prefixed, in a fixed order. The external id is not part of it (it is the key).
    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        let mut field = |value: &str| {
            hasher.update((value.len() as u64).to_be_bytes());
            hasher.update(value.as_bytes());
        };
        field(&self.subject);
        field(&self.start.timestamp().to_string());
        field(&self.end.timestamp().to_string());
        field(self.zone.name());
        field(self.zone.windows);
        field(self.location.as_deref().unwrap_or(""));
        field(self.body.as_deref().unwrap_or(""));
        field(&self.categories.len().to_string());
        for category in &self.categories {
            field(category);
        }
        field(if self.is_all_day { "all-day" } else { "timed" });
        field(self.show_as.as_str());
        field(
            &self
                .reminder_minutes_before_start
                .map(|minutes| minutes.to_string())
                .unwrap_or_default(),
        );
        format!("v1:{}", hex::encode(hasher.finalize()))
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|text| !text.is_empty())
}

/// Length and character rules of a text field.
fn check_text(
    field: &str,
    value: &str,
    max_chars: usize,
    multi_line: bool,
) -> Result<(), InvalidEvent> {
    if value.chars().count() > max_chars {
        return Err(InvalidEvent::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
    }
    let allowed_control = |character: char| multi_line && matches!(character, '\t' | '\n' | '\r');
    if value
        .chars()
        .any(|character| character.is_control() && !allowed_control(character))
    {
        return Err(InvalidEvent::new(field, "must not hold control characters"));
    }
    Ok(())
}

/// A lecture as MyTimetable sends one, with `subject`: the event the push and backend unit tests
/// start from.
#[cfg(test)]
pub(crate) fn lecture(subject: &str) -> Event {
    lecture_on("mytt:1", subject, 1)
}

/// [`lecture`] with external id `id`, on December `day` 2026.
#[cfg(test)]
pub(crate) fn lecture_on(id: &str, subject: &str, day: u32) -> Event {
    Event::new(
        ExternalId::parse(id).unwrap(),
        EventInput {
            subject: subject.to_owned(),
            start: format!("2026-12-{day:02}T09:00:00+01:00").parse().unwrap(),
            end: format!("2026-12-{day:02}T10:45:00+01:00").parse().unwrap(),
            time_zone: "Europe/Amsterdam".to_owned(),
            location: Some("Room 1.14".to_owned()),
            body: Some("Lecturer: A. Turing".to_owned()),
            categories: vec!["MyTimetable".to_owned()],
            is_all_day: false,
            show_as: None,
            reminder_minutes_before_start: Some(15),
        },
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> EventInput {
        EventInput {
            subject: "Linear Algebra - Lecture".to_owned(),
            start: "2026-12-01T09:00:00+01:00".parse().unwrap(),
            end: "2026-12-01T10:45:00+01:00".parse().unwrap(),
            time_zone: "Europe/Amsterdam".to_owned(),
            location: Some("Room 1.14".to_owned()),
            body: Some("Lecturer: A. Turing\nBring a pencil".to_owned()),
            categories: vec!["MyTimetable".to_owned()],
            is_all_day: false,
            show_as: None,
            reminder_minutes_before_start: Some(15),
        }
    }

    fn check(change: impl FnOnce(&mut EventInput), field: &str) {
        let mut event = input();
        change(&mut event);
        let error = Event::new(ExternalId::parse("e-1").unwrap(), event).unwrap_err();
        assert_eq!(error.field, field, "{error}");
    }

    #[test]
    fn a_lecture_is_valid_and_busy_by_default() {
        let event = Event::new(ExternalId::parse("mytt:2026:42").unwrap(), input()).unwrap();
        assert_eq!(event.show_as, ShowAs::Busy);
        assert_eq!(event.start.to_rfc3339(), "2026-12-01T08:00:00+00:00");
        assert_eq!(event.zone.windows, "W. Europe Standard Time");
    }

    #[test]
    fn each_rule_names_its_field() {
        check(|event| event.subject = "  ".to_owned(), "subject");
        check(|event| event.subject = "x".repeat(256), "subject");
        check(|event| event.subject = "a\u{7}b".to_owned(), "subject");
        check(|event| event.end = event.start, "end");
        check(
            |event| event.end = "2028-12-01T10:45:00+01:00".parse().unwrap(),
            "end",
        );
        check(
            |event| event.time_zone = "Europe/Atlantis".to_owned(),
            "timeZone",
        );
        check(|event| event.show_as = Some("Away".to_owned()), "showAs");
        check(
            |event| event.reminder_minutes_before_start = Some(-1),
            "reminderMinutesBeforeStart",
        );
        check(
            |event| event.reminder_minutes_before_start = Some(20_161),
            "reminderMinutesBeforeStart",
        );
        check(|event| event.location = Some("l".repeat(256)), "location");
        check(
            |event| event.categories = vec![String::new()],
            "categories[0]",
        );
        check(
            |event| event.categories = vec!["c".to_owned(); 26],
            "categories",
        );
        check(|event| event.is_all_day = true, "start");
    }

    #[test]
    fn the_unknown_zone_is_named_in_the_detail() {
        let mut event = input();
        event.time_zone = "Europe/Atlantis".to_owned();
        let error = Event::new(ExternalId::parse("e").unwrap(), event).unwrap_err();
        assert!(error.to_string().contains("Europe/Atlantis"), "{error}");
    }

    #[test]
    fn all_day_events_need_midnight_in_their_zone() {
        let mut event = input();
        event.is_all_day = true;
        event.start = "2026-12-01T00:00:00+01:00".parse().unwrap();
        event.end = "2026-12-02T00:00:00+01:00".parse().unwrap();
        assert!(Event::new(ExternalId::parse("e").unwrap(), event.clone()).is_ok());
        // The same day given as UTC midnight is 01:00 in Amsterdam.
        event.start = "2026-12-01T00:00:00Z".parse().unwrap();
        let error = Event::new(ExternalId::parse("e").unwrap(), event).unwrap_err();
        assert_eq!(error.field, "start");
    }

    #[test]
    fn external_ids_keep_to_their_charset_and_length() {
        assert!(ExternalId::parse("mytt:2026-27:event.42_a~b@c+d=e").is_ok());
        for bad in ["", "a b", "a/b", "a?b", "é", &"x".repeat(201)] {
            let error = ExternalId::parse(bad).unwrap_err();
            assert_eq!(error.field, "externalId");
        }
    }

    #[test]
    fn the_hash_ignores_offsets_and_sees_every_written_field() {
        let event = Event::new(ExternalId::parse("e").unwrap(), input()).unwrap();
        let mut same_instant = input();
        same_instant.start = "2026-12-01T08:00:00Z".parse().unwrap();
        let same = Event::new(ExternalId::parse("other").unwrap(), same_instant).unwrap();
        assert_eq!(event.content_hash(), same.content_hash());
        assert!(event.content_hash().starts_with("v1:"));

        type Change = Box<dyn Fn(&mut EventInput)>;
        let changes: Vec<Change> = vec![
            Box::new(|event| event.subject.push('!')),
            Box::new(|event| event.end = "2026-12-01T11:00:00+01:00".parse().unwrap()),
            Box::new(|event| event.location = None),
            Box::new(|event| event.body = Some("other".to_owned())),
            Box::new(|event| event.categories.push("Exam".to_owned())),
            Box::new(|event| event.show_as = Some("Free".to_owned())),
            Box::new(|event| event.reminder_minutes_before_start = None),
            Box::new(|event| event.time_zone = "Europe/Brussels".to_owned()),
        ];
        for change in changes {
            let mut changed = input();
            change(&mut changed);
            let changed = Event::new(ExternalId::parse("e").unwrap(), changed).unwrap();
            assert_ne!(event.content_hash(), changed.content_hash(), "{changed:?}");
        }
    }
}
