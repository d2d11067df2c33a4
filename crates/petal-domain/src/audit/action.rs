//! Every kind of audited action, with the stable name stored in the trail.

use std::fmt;

macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// Every action the audit trail records (SPEC §3 Audit trail).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum AuditAction {
            $($(#[$doc])* $variant,)*
        }

        impl AuditAction {
            /// Every action, in declaration order.
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)*];

            /// The stable name stored in the trail and used in filters.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name,)*
                }
            }

            /// Parses a stored or requested action name.
            pub fn parse(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|action| action.as_str() == name)
            }
        }
    };
}

actions! {
    /// An organisation was created.
    OrgCreated => "org.created",
    /// A signed document link was issued.
    DocumentLinkIssued => "document.link_issued",
    /// A document was fetched through a signed link.
    DocumentAccessed => "document.accessed",
    /// A signed link was refused (expired, altered, wrong user or no session).
    DocumentLinkRefused => "document.link_refused",
    /// A login succeeded.
    LoginSucceeded => "auth.login_succeeded",
    /// A login failed.
    LoginFailed => "auth.login_failed",
    /// An account was locked after repeated failures.
    LoginLocked => "auth.login_locked",
    /// A user logged out.
    Logout => "auth.logout",
    /// A second factor was enrolled.
    MfaEnrolled => "mfa.enrolled",
    /// A second factor was verified.
    MfaVerified => "mfa.verified",
    /// A second-factor check failed.
    MfaFailed => "mfa.failed",
    /// An Admin reset a user's second factors.
    MfaReset => "mfa.reset",
    /// A password was changed.
    PasswordChanged => "password.changed",
    /// A session was revoked.
    SessionRevoked => "session.revoked",
    /// Organisation settings were changed.
    SettingsChanged => "settings.changed",
    /// An invite was created.
    InviteCreated => "invite.created",
    /// An invite was accepted.
    InviteAccepted => "invite.accepted",
    /// A user's role was changed.
    RoleChanged => "user.role_changed",
    /// A user was deactivated.
    UserDeactivated => "user.deactivated",
    /// A job was created.
    JobCreated => "job.created",
    /// A document was uploaded.
    DocumentUploaded => "document.uploaded",
    /// An uploaded file was rejected.
    DocumentRejected => "document.rejected",
    /// Processing of a job started.
    ProcessingStarted => "job.processing_started",
    /// A document was screened.
    DocumentScreened => "document.screened",
    /// A job completed.
    JobCompleted => "job.completed",
    /// A job failed.
    JobFailed => "job.failed",
    /// A job's criteria were confirmed or changed.
    CriteriaChanged => "job.criteria_changed",
    /// A job was re-screened.
    JobRescreened => "job.rescreened",
    /// A human decision was recorded.
    DecisionRecorded => "decision.recorded",
    /// A candidate was marked for manual review only (or the mark was lifted).
    ManualReviewSet => "document.manual_review_set",
    /// A document was deleted.
    DocumentDeleted => "document.deleted",
    /// The master key was rotated and the organisation's key re-wrapped under the new one.
    MasterKeyRotated => "keys.master_rotated",
    /// A job was deleted.
    JobDeleted => "job.deleted",
    /// A job was purged by the retention policy.
    JobPurged => "job.purged",
    /// An export of all organisation data was requested.
    ExportRequested => "export.requested",
    /// An export was downloaded.
    ExportDownloaded => "export.downloaded",
    /// The audit log was exported.
    AuditExported => "audit.exported",
    /// A signed checkpoint of the chain was requested.
    AuditCheckpointCreated => "audit.checkpoint_created",
    /// Retention purged the oldest events, leaving a signed anchor.
    AuditPurged => "audit.purged",
    /// A candidate was erased.
    CandidateErased => "candidate.erased",
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_parse_back() {
        let names: HashSet<_> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), AuditAction::ALL.len());
        for action in AuditAction::ALL {
            assert_eq!(AuditAction::parse(action.as_str()), Some(*action));
        }
        assert_eq!(AuditAction::parse("org.deleted_everything"), None);
    }
}
