//! What the protocol layer holds of the database: the one door from
//! `wire` to the data. It opens sessions, prepares statements outside a
//! session (the extended protocol's Parse before the first statement), and
//! answers logins with the role's stored SCRAM verifier. `wire` never sees
//! the store or the cluster behind it.

use std::sync::Arc;

use crate::cluster::Cluster;
use crate::error::Result;
use crate::exec::backends::Backends;
use crate::exec::{handle::SessionHandle, Prepared};
use crate::store::Store;
use crate::types::PgType;

pub struct Engine {
    store: Arc<Store>,
    /// The cluster, when sessions read the peers' data too.
    cluster: Option<Arc<Cluster>>,
    /// The client sessions, for pg_stat_activity and pg_cancel_backend.
    backends: Arc<Backends>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("node", &self.store.node_name)
            .finish()
    }
}

impl Engine {
    pub fn new(store: Arc<Store>, cluster: Option<Arc<Cluster>>) -> Arc<Engine> {
        Arc::new(Engine {
            store,
            cluster,
            backends: Default::default(),
        })
    }

    /// Start a session for `user` on the calling connection's thread
    /// (`exec::host`).
    /// `client` is the address it connected from.
    pub async fn spawn_session(
        &self,
        user: String,
        pid: i32,
        client: Option<std::net::SocketAddr>,
    ) -> Result<SessionHandle> {
        let listed = Some((self.backends.clone(), client));
        SessionHandle::spawn(self.store.clone(), user, pid, self.cluster.clone(), listed).await
    }

    /// How many client sessions are running a statement now.
    pub fn running_statements(&self) -> usize {
        let sessions = self.backends.list();
        sessions
            .iter()
            .filter(|(_, s)| s.activity.lock().running)
            .count()
    }

    /// Parse, classify and type `sql` against the committed catalog.
    pub fn prepare(&self, sql: &str, declared: &[Option<PgType>]) -> Result<Vec<Prepared>> {
        let staged = Default::default();
        let view = self.store.catalog.view(&staged);
        let _types = crate::types::enums::scope(view.enum_types());
        let _domains = crate::types::domain::scope(view.domain_types());
        crate::exec::prepare(&self.store.catalog, sql, declared)
    }

    /// Whether `user` may log in: false for a role made NOLOGIN (an unknown
    /// role fails at the password, as a wrong password does).
    pub fn may_log_in(&self, user: &str) -> bool {
        self.store.catalog.role(user).is_none_or(|r| r.login)
    }

    /// The SCRAM secrets `user` may log in with (password, then live
    /// tokens with their perms).
    pub fn scram_secrets(&self, user: &str) -> Vec<(String, Option<crate::auth::token::Perms>)> {
        crate::exec::tokens::scram_secrets(&self.store, user)
    }
}
