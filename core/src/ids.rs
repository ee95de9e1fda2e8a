//! Validated identifiers. An id is the only way a room, door, terminal, system, person,
//! site, vendor or maintenance request is named inside the hub; each has one constructor
//! that says what is wrong.
//!
//! Ids travel in MQTT topics (`monban/{site}/door/{door}/event`) and URLs, so they are
//! restricted to `[A-Za-z0-9._~:-]`, 1 to 128 characters: no `/`, `+`, `#` or spaces.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} id must not be empty")]
    Empty { kind: &'static str },
    #[error("{kind} id {value:?} is longer than 128 characters")]
    TooLong { kind: &'static str, value: String },
    #[error("{kind} id {value:?} may only contain letters, digits and . _ ~ : -")]
    BadChar { kind: &'static str, value: String },
}

pub(crate) fn check_id(kind: &'static str, value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if value.len() > 128 {
        return Err(IdError::TooLong {
            kind,
            value: value.chars().take(40).collect(),
        });
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | ':' | '-'))
    {
        return Err(IdError::BadChar {
            kind,
            value: value.to_string(),
        });
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier; the error names the kind of id and what is wrong.
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check_id($kind, &value)?;
                Ok(Self(value))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(/// A room: a disjoint space (ward, dispensing room, server room, lobby).
    RoomId, "room");
id_type!(/// A door of a room, with a controller that reports events.
    DoorId, "door");
id_type!(/// A terminal (PC, workstation) placed in a room.
    TerminalId, "terminal");
id_type!(/// A medical information system (電子カルテ, 部門システム, VPN, …).
    SystemId, "system");
id_type!(/// A person (staff member or vendor engineer).
    PersonId, "person");
id_type!(/// The site (hospital) this hub watches.
    SiteId, "site");
id_type!(/// A maintenance vendor (保守事業者) whose staff maintain systems of the site.
    VendorId, "vendor");
id_type!(/// A maintenance request (保守作業の事前申請), named by the vendor (`acme-2026-0042`).
    RequestId, "request");

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accepts_typical_ids() {
        for ok in ["ward3", "ward3-main", "p0001", "srv.room_1", "a:b~c"] {
            assert!(DoorId::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_topic_breaking_ids() {
        for bad in ["", "a/b", "a+b", "#", "a b", "扉"] {
            assert!(DoorId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(
            RoomId::parse("x".repeat(129)),
            Err(IdError::TooLong { .. })
        ));
    }

    #[test]
    fn error_names_the_kind() {
        let e = RoomId::parse("a/b").unwrap_err().to_string();
        assert!(e.starts_with("room id"), "{e}");
    }
}
