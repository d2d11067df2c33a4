//! Roles and what each may do (SPEC §1). The table lives here, once; the web layer asks
//! [`Role::allows`] and never compares roles by hand.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A user's role within their organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything a Reviewer may, plus users, settings, export, audit and alerts.
    Admin,
    /// Creates jobs, uploads and opens CVs, records decisions.
    Reviewer,
    /// Reads jobs and results; never opens documents.
    Viewer,
}

/// Something a user may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read jobs, rankings and screening results.
    ReadJobs,
    /// Create jobs, upload CVs and re-screen.
    ManageJobs,
    /// Open or download the original CV documents.
    OpenDocuments,
    /// Record a human decision on a candidate.
    RecordDecisions,
    /// Delete a job the user created.
    DeleteOwnJobs,
    /// Delete any job of the organisation.
    DeleteAnyJob,
    /// Invite and deactivate users, change roles, reset MFA.
    ManageUsers,
    /// Change organisation settings (retention, screening engine, blind review).
    ManageSettings,
    /// Export all of the organisation's data, and erase candidates.
    ControlData,
    /// Read the audit log and security alerts.
    ReadAudit,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Reviewer, Role::Viewer];

    /// Whether this role grants `permission`.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Reviewer => matches!(
                permission,
                ReadJobs | ManageJobs | OpenDocuments | RecordDecisions | DeleteOwnJobs
            ),
            Role::Viewer => matches!(permission, ReadJobs),
        }
    }

    /// The role's name as written in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Viewer => "viewer",
        }
    }

    /// Parses a role name as written in the API (`"admin"`, `"reviewer"`, `"viewer"`).
    pub fn parse(input: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == input)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Permission::*;
    use super::*;

    const EVERY_PERMISSION: [Permission; 10] = [
        ReadJobs,
        ManageJobs,
        OpenDocuments,
        RecordDecisions,
        DeleteOwnJobs,
        DeleteAnyJob,
        ManageUsers,
        ManageSettings,
        ControlData,
        ReadAudit,
    ];

    #[test]
    fn admin_may_do_everything() {
        assert!(EVERY_PERMISSION.iter().all(|p| Role::Admin.allows(*p)));
    }

    #[test]
    fn reviewer_works_on_jobs_but_administers_nothing() {
        for p in [ReadJobs, ManageJobs, OpenDocuments, RecordDecisions, DeleteOwnJobs] {
            assert!(Role::Reviewer.allows(p), "{p:?}");
        }
        for p in [DeleteAnyJob, ManageUsers, ManageSettings, ControlData, ReadAudit] {
            assert!(!Role::Reviewer.allows(p), "{p:?}");
        }
    }

    #[test]
    fn viewer_only_reads_and_never_opens_documents() {
        for p in EVERY_PERMISSION {
            assert_eq!(Role::Viewer.allows(p), p == ReadJobs, "{p:?}");
        }
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_string(&role).unwrap(), format!("\"{role}\""));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("root"), None);
    }
}
