//! The tenancy invariant.

use petal_domain::OrgId;

/// Proof that the holder may act on one organisation's data.
///
/// Only this crate can construct it: when the authentication layer resolves a live session to
/// its organisation (the organisation comes from the session row, never from the request), for
/// an operator on the server's command line ([`OrgScope::for_operator`]), whose actions are
/// audited with actor `cli`, for the server's scheduled upkeep ([`OrgScope::for_upkeep`]), for a verified document link ([`OrgScope::for_verified_link`]),
/// and for a screening worker's claimed task (`tasks::claim`, from the task row, which only a
/// scoped transaction of that organisation can write). Every
/// repository function on organisation data takes an `&OrgScope`, so a handler that skipped
/// authentication has nothing to pass; on PostgreSQL the scope is also written into the
/// transaction (`app.org_id`) for row-level security.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgScope {
    org_id: OrgId,
}

impl OrgScope {
    pub(crate) fn new(org_id: OrgId) -> Self {
        Self { org_id }
    }

    /// The organisation this scope grants.
    pub fn org_id(&self) -> OrgId {
        self.org_id
    }

    /// A scope for recording what happened to a signed document link presented without a
    /// session. Call it only with an organisation id taken from a link whose HMAC this server
    /// has just verified: the id is then the server's own statement, not the client's.
    pub fn for_verified_link(org_id: OrgId) -> Self {
        Self::new(org_id)
    }

    /// One scope per organisation, oldest first, for the server's own scheduled upkeep
    /// (checkpoints of the audit trail, retention), whose actions are audited with actor
    /// `system` or `cli`.
    pub async fn for_upkeep(db: &crate::Database) -> Result<Vec<Self>, crate::StorageError> {
        Ok(crate::orgs::list_ids(db).await?.into_iter().map(Self::new).collect())
    }

    /// A scope for an operator acting through the CLI on the server, after checking that the
    /// organisation exists. Returns `None` for an unknown organisation.
    pub async fn for_operator(
        db: &crate::Database,
        org_id: OrgId,
    ) -> Result<Option<Self>, crate::StorageError> {
        Ok(crate::orgs::exists(db, org_id).await?.then(|| Self::new(org_id)))
    }
}
