//! `mosaic.queries`: the statements running on this node now, one row per
//! client session running one, with the peers each asked so far and how
//! many rows it sent its client. As in `pg_stat_activity`, another role's
//! statements are listed only to members of that role or of
//! pg_read_all_stats.

use crate::error::Result;
use crate::exec::Session;
use crate::types::datetime::{clock_micros, timestamp_text};
use crate::types::Datum;

pub(super) fn rows(sess: &Session) -> Result<Vec<Vec<Datum>>> {
    let Some(backends) = &sess.backends else {
        return Ok(Vec::new());
    };
    let now = clock_micros();
    let mut out = Vec::new();
    for (pid, shared) in backends.list() {
        let a = shared.activity.lock().clone();
        if !a.running || !crate::exec::backends::may_see(sess, &a.user) {
            continue;
        }
        let start = a.query_start.unwrap_or(now);
        let peers = format!("{{{}}}", a.peers.join(","));
        out.push(vec![
            Datum::Int(pid as i64),
            Datum::Text(a.user.clone()),
            Datum::Text(a.query.to_string()),
            timestamp_text(start).map_or(Datum::Null, Datum::Text),
            Datum::Int((now - start).max(0) / 1000),
            Datum::Text(peers),
            Datum::Int(shared.rows_sent.load(std::sync::atomic::Ordering::Relaxed) as i64),
            a.wait.map_or(Datum::Null, |w| Datum::Text(w.1.into())),
        ]);
    }
    Ok(out)
}
