//! The rendered collaboration views, kept in memory (visningscache). Building a view evaluates every
//! command's guard, the obligations and `next` for the caller; a read of an unchanged collaboration by
//! the same caller gets the bytes built for it before, if
//!
//! * the collaboration's stored version is still the one the view was built from (one indexed
//!   query per read checks it, so a change to the collaboration is seen at once);
//! * no write went through this process's [`crate::app::Services::write`] since (any write may change
//!   what a view reads besides the collaboration: registers' CPUAs, delegations, agreement versions,
//!   organisations);
//! * it is the same day, and the view is younger than [`VIEW_TTL_MS`] by the injected clock (views
//!   depend on the time, and another process may have written).
//!
//! The key is the collaboration and the whole caller (account, organisation, role, membership and
//! credential), so one caller never gets a view built for another. At most [`VIEW_CAPACITY`] views
//! are kept; when full, the cache starts again empty.
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::domain::role::Actor;

/// How long a kept view is served without being rebuilt, in milliseconds of the injected clock.
pub const VIEW_TTL_MS: i64 = 2_000;

/// How many views are kept at most.
pub const VIEW_CAPACITY: usize = 10_000;

/// A view as sent: the version (for the ETag) and the JSON body.
#[derive(Debug)]
pub struct RenderedView {
    pub version: i64,
    pub body: Vec<u8>,
}

struct Entry {
    version: i64,
    generation: u64,
    today: NaiveDate,
    built_at: DateTime<Utc>,
    view: Arc<RenderedView>,
}

/// The kept views and the write generation that invalidates them.
#[derive(Default)]
pub struct ViewCache {
    generation: AtomicU64,
    views: Mutex<HashMap<String, Entry>>,
}

impl ViewCache {
    /// Forgets every kept view: a write happened.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The generation to build a view under; read it before reading what the view is built from.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn key(id: &str, actor: &Actor) -> String {
        format!(
            "{id}|{}|{}|{}|{:?}|{:?}",
            actor.account,
            actor.org,
            actor.role.code(),
            actor.membership,
            actor.credential
        )
    }

    /// The view kept for this caller, if it is still good for `version` at `now`.
    pub fn get(
        &self,
        id: &str,
        actor: &Actor,
        version: i64,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Option<Arc<RenderedView>> {
        let generation = self.generation();
        let views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        let e = views.get(&Self::key(id, actor))?;
        let age = (now - e.built_at).num_milliseconds();
        (e.version == version
            && e.generation == generation
            && e.today == today
            && (0..VIEW_TTL_MS).contains(&age))
        .then(|| e.view.clone())
    }

    /// Keeps a view built under `generation` (read before the build began).
    #[allow(clippy::too_many_arguments)]
    pub fn put(
        &self,
        id: &str,
        actor: &Actor,
        generation: u64,
        now: DateTime<Utc>,
        today: NaiveDate,
        view: Arc<RenderedView>,
    ) {
        let mut views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        if views.len() >= VIEW_CAPACITY {
            views.clear();
        }
        views.insert(
            Self::key(id, actor),
            Entry {
                version: view.version,
                generation,
                today,
                built_at: now,
                view,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{AccountId, OrgId};
    use crate::domain::role::Role;

    fn actor(role: Role) -> Actor {
        Actor::new(
            AccountId::from_db("a".into()),
            "A",
            OrgId::from_db("o".into()),
            role,
        )
    }

    #[test]
    fn a_view_is_kept_for_its_version_caller_generation_day_and_lifetime() {
        let cache = ViewCache::default();
        let now = DateTime::parse_from_rfc3339("2026-09-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let today = now.date_naive();
        let me = actor(Role::CompanyRepresentative);
        let g = cache.generation();
        let view = Arc::new(RenderedView {
            version: 3,
            body: b"{}".to_vec(),
        });
        cache.put("c", &me, g, now, today, view);
        assert!(cache.get("c", &me, 3, now, today).is_some());
        // Another version, another caller, another day, too old: rebuilt.
        assert!(cache.get("c", &me, 4, now, today).is_none());
        assert!(cache
            .get("c", &actor(Role::Administrator), 3, now, today)
            .is_none());
        let tomorrow = today.succ_opt().unwrap();
        assert!(cache.get("c", &me, 3, now, tomorrow).is_none());
        let later = now + chrono::Duration::milliseconds(VIEW_TTL_MS);
        assert!(cache.get("c", &me, 3, later, today).is_none());
        // Any write forgets it.
        cache.invalidate();
        assert!(cache.get("c", &me, 3, now, today).is_none());
    }
}
