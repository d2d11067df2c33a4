//! Petal's vocabulary, free of I/O.
//!
//! Everything here is pure: identifiers, roles and what they permit, validated inputs
//! (emails, organisation names), the clock abstraction, and the audit trail's event types
//! and hash chain. The storage and web layers build on these types; nothing here knows about
//! databases, files or HTTP.

pub mod audit;
pub mod clock;
pub mod email;
pub mod ids;
pub mod org;
pub mod role;

pub use clock::{Clock, FixedClock, SystemClock};
pub use email::Email;
pub use ids::{AuditEventId, DocumentId, ExportId, InviteId, JobId, OrgId, SessionId, UserId};
pub use org::{OrgName, OrgSettings, ScreeningEngine};
pub use role::{Permission, Role};
