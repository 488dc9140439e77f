//! Session parameters on the wire: the ParameterStatus messages sent at
//! startup and again whenever a reported setting changes (SET, RESET,
//! DISCARD ALL, set_config()), as PostgreSQL sends them before
//! ReadyForQuery. The values themselves live in `exec::settings`.
//!
//! Clients lean on these: PgBouncer keeps each server connection's
//! application_name, DateStyle, TimeZone, client_encoding and
//! standard_conforming_strings as last reported, and only sends `SET` to
//! a server connection whose value it has seen; JDBC checks DateStyle and
//! client_encoding on every report.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use futures::{Sink, SinkExt};
use parking_lot::Mutex;
use pgwire::api::auth::{DefaultServerParameterProvider, ServerParameterProvider};
use pgwire::api::ClientInfo;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::startup::ParameterStatus;
use pgwire::messages::PgWireBackendMessage;

use crate::exec::settings::Settings;

/// Startup ParameterStatus: pgwire's set (server_version, in_hot_standby,
/// session_authorization, …) with every reported setting as the session
/// will start with it, application_name included even when empty.
pub struct ServerParameters {
    pub base: DefaultServerParameterProvider,
}

impl ServerParameterProvider for ServerParameters {
    fn server_parameters<C>(&self, client: &C) -> Option<HashMap<String, String>>
    where
        C: ClientInfo,
    {
        let mut params = self.base.server_parameters(client).unwrap_or_default();
        // The same computation the session makes when it starts (see
        // `Reporter::start`), so the two agree on what the client was told.
        let settings = Settings::default();
        settings.apply_startup(startup_params(client).iter().map(|(k, v)| (&**k, &**v)));
        for (name, value) in settings.reported() {
            params.insert(name.to_string(), value);
        }
        Some(params)
    }
}

/// The connection's startup packet parameters.
pub fn startup_params<C: ClientInfo>(client: &C) -> Vec<(String, String)> {
    client
        .metadata()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What a connection last told its client, to report only changes.
pub struct Reporter {
    settings: Settings,
    told: Mutex<Told>,
}

struct Told {
    generation: u64,
    values: BTreeMap<&'static str, String>,
}

impl Reporter {
    /// Starts from the values the startup ParameterStatus carried.
    pub fn start(settings: Settings) -> Reporter {
        let told = Told {
            generation: settings.generation(),
            values: settings.reported().into_iter().collect(),
        };
        Reporter {
            settings,
            told: Mutex::new(told),
        }
    }

    /// The session's TimeZone, in which its timestamptz values are read
    /// and written as text.
    pub fn zone(&self) -> crate::types::zone::Zone {
        self.settings.zone()
    }

    /// The reported parameters whose values changed since the last call.
    fn changes(&self) -> Vec<(&'static str, String)> {
        let generation = self.settings.generation();
        let mut told = self.told.lock();
        if told.generation == generation {
            return Vec::new();
        }
        told.generation = generation;
        let mut changed = Vec::new();
        for (name, value) in self.settings.reported() {
            if told.values.get(name) != Some(&value) {
                told.values.insert(name, value.clone());
                changed.push((name, value));
            }
        }
        changed
    }
}

/// The client's session's TimeZone (UTC before its session has started).
pub fn zone<C: ClientInfo>(client: &C) -> crate::types::zone::Zone {
    client
        .session_extensions()
        .get::<Reporter>()
        .map_or(crate::types::zone::Zone::UTC, |r| r.zone())
}

/// Queues a ParameterStatus for each reported setting the last statement
/// changed. A no-op before the connection's session has started.
pub async fn report_changes<C>(client: &mut C) -> PgWireResult<()>
where
    C: ClientInfo + Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let Some(reporter) = client.session_extensions().get::<Reporter>() else {
        return Ok(());
    };
    for (name, value) in reporter.changes() {
        client
            .feed(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
                name.to_string(),
                value,
            )))
            .await?;
    }
    Ok(())
}
