//! Time zones: an IANA name (what MyTimetable sends) checked against the IANA rules of
//! `chrono-tz` and mapped to the Windows time-zone id that Exchange expects in
//! `StartTimeZone`/`EndTimeZone`, through CLDR's `windowsZones` table (the `localzone` crate's
//! `win_zones` data).
//!
//! Invariants:
//! - a [`Zone`] always has both an IANA zone and a Windows id; a name that lacks either is an
//!   [`UnknownZone`] (the API's 400 names it);
//! - a few IANA names that CLDR's table spells differently (links such as `UTC`, renames such as
//!   `Europe/Kyiv`) are looked up under the spelling CLDR uses; the IANA rules used for the
//!   instants are always those of the name given.
//!
//! Entry types: [`Zone`], [`UnknownZone`].

use chrono_tz::Tz;

/// An IANA time zone with its Windows id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    /// The IANA zone, for local times (all-day events) and DST.
    pub iana: Tz,
    /// The Windows id, such as `W. Europe Standard Time`.
    pub windows: &'static str,
}

/// A `timeZone` that is no IANA zone, or has no Windows id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not an IANA time zone with a Windows time-zone id")]
pub struct UnknownZone {
    pub name: String,
}

/// IANA names that CLDR's `windowsZones` table lists under another spelling: links and
/// renames newer than the table.
const CLDR_SPELLING: &[(&str, &str)] = &[
    ("UTC", "Etc/UTC"),
    ("Etc/UCT", "Etc/UTC"),
    ("Etc/Universal", "Etc/UTC"),
    ("Etc/Zulu", "Etc/UTC"),
    ("Universal", "Etc/UTC"),
    ("Zulu", "Etc/UTC"),
    ("UCT", "Etc/UTC"),
    ("GMT", "Etc/GMT"),
    ("Etc/GMT0", "Etc/GMT"),
    ("Etc/GMT+0", "Etc/GMT"),
    ("Etc/GMT-0", "Etc/GMT"),
    ("Etc/Greenwich", "Etc/GMT"),
    ("Europe/Kyiv", "Europe/Kiev"),
    ("America/Nuuk", "America/Godthab"),
    ("Asia/Yangon", "Asia/Rangoon"),
    ("Asia/Kathmandu", "Asia/Katmandu"),
    ("Asia/Kolkata", "Asia/Calcutta"),
    ("Asia/Ho_Chi_Minh", "Asia/Saigon"),
    ("Atlantic/Faroe", "Atlantic/Faeroe"),
    ("Pacific/Kanton", "Pacific/Enderbury"),
];

impl Zone {
    /// The zone named `name` (case-sensitive, as IANA spells it).
    ///
    /// # Errors
    /// [`UnknownZone`] when IANA has no such zone or CLDR maps it to no Windows id.
    pub fn parse(name: &str) -> Result<Zone, UnknownZone> {
        let unknown = || UnknownZone {
            name: name.to_owned(),
        };
        let iana: Tz = name.parse().map_err(|_| unknown())?;
        let windows = windows_id(name)
            .or_else(|| {
                CLDR_SPELLING
                    .iter()
                    .find(|(given, _)| *given == name)
                    .and_then(|(_, cldr)| windows_id(cldr))
            })
            .ok_or_else(unknown)?;
        Ok(Zone { iana, windows })
    }

    /// The IANA name, as given.
    pub fn name(&self) -> &'static str {
        self.iana.name()
    }
}

fn windows_id(name: &str) -> Option<&'static str> {
    localzone::iana_to_win_zone(name).map(|(windows, _territory)| windows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_university_zones_map_to_their_windows_ids() {
        let cases = [
            ("Europe/Amsterdam", "W. Europe Standard Time"),
            ("Europe/Brussels", "Romance Standard Time"),
            ("Europe/London", "GMT Standard Time"),
            ("Europe/Helsinki", "FLE Standard Time"),
            ("Europe/Kyiv", "FLE Standard Time"),
            ("America/New_York", "Eastern Standard Time"),
            ("Asia/Kolkata", "India Standard Time"),
            ("UTC", "UTC"),
            ("Etc/UTC", "UTC"),
        ];
        for (name, windows) in cases {
            let zone = Zone::parse(name).unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(zone.windows, windows, "{name}");
            assert_eq!(zone.name(), name);
        }
    }

    #[test]
    fn unknown_names_are_refused_with_the_name() {
        for name in [
            "Mars/Olympus_Mons",
            "europe/amsterdam",
            "",
            "W. Europe Standard Time",
        ] {
            let error = Zone::parse(name).unwrap_err();
            assert_eq!(error.name, name);
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn nearly_every_canonical_iana_zone_has_a_windows_id() {
        let unmapped: Vec<&str> = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|zone| zone.name())
            .filter(|name| Zone::parse(name).is_err())
            .collect();
        // Links to legacy names (`US/Pacific`, `Etc/GMT+5` is mapped) and a few zones that CLDR
        // leaves out (Antarctic stations) stay unmapped; they answer 400 with their name.
        assert!(!unmapped.contains(&"Europe/Amsterdam"));
        assert!(
            unmapped.len() < chrono_tz::TZ_VARIANTS.len() / 4,
            "{} of {} unmapped: {unmapped:?}",
            unmapped.len(),
            chrono_tz::TZ_VARIANTS.len()
        );
    }
}
