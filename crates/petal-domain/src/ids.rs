//! Typed identifiers. Each is a random (v4) UUID, so an id reveals neither creation time nor
//! how many rows exist, and ids of different kinds cannot be mixed up.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            /// Wraps an id read from storage or parsed from input.
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

define_id!(
    /// Identifies an organisation (a tenant).
    OrgId
);
define_id!(
    /// Identifies a user account.
    UserId
);
define_id!(
    /// Identifies an invitation to join an organisation.
    InviteId
);
define_id!(
    /// Identifies one audit event.
    AuditEventId
);
define_id!(
    /// Identifies a signed-in session.
    SessionId
);
define_id!(
    /// Identifies a screening job.
    JobId
);
define_id!(
    /// Identifies an uploaded document (one CV).
    DocumentId
);
define_id!(
    /// Identifies an export of an organisation's data.
    ExportId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_round_trip_through_text() {
        let a = OrgId::new();
        let b = OrgId::new();
        assert_ne!(a, b);
        let parsed: OrgId = a.to_string().parse().unwrap();
        assert_eq!(parsed, a);
        assert_eq!(a.as_uuid().get_version_num(), 4);
    }

    #[test]
    fn malformed_id_is_refused() {
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
