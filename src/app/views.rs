//! The rendered views, kept in memory (visningscache): a collaboration as one caller sees it, and a
//! caller's own "who am I". Building a collaboration view evaluates every command's guard, the
//! obligations and `next` for the caller; a read by the same caller gets the bytes built for it
//! before, with no database work at all, if
//!
//! * no write went through this process's [`crate::app::Services::write`] (or another writer that
//!   calls [`ViewCache::invalidate`] after its commit) since the view was built: any write may change
//!   what a view reads, the collaboration itself or what lies around it (registers' CPUAs,
//!   delegations, agreement versions, organisations, memberships);
//! * it is the same day, and the view is younger than [`VIEW_TTL_MS`] by the injected clock (views
//!   depend on the time, and another server process on the same database may have written: such a
//!   write is seen within that time, README "Caching").
//!
//! The key is the subject and the whole caller (account, organisation, role, membership and
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

/// What a view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// One collaboration, by the id as the caller wrote it.
    Collaboration(&'a str),
    /// The caller's own account and roles (`GET /api/v1/me`).
    Me,
}

/// A view as sent: the version (for the ETag; 0 where the subject has none) and the JSON body.
#[derive(Debug)]
pub struct RenderedView {
    pub version: i64,
    pub body: Vec<u8>,
}

struct Entry {
    /// What the key was made of ([`ViewCache::key`] is a hash of it): a view is served only when
    /// these are equal too.
    subject: String,
    actor: Actor,
    generation: u64,
    today: NaiveDate,
    built_at: DateTime<Utc>,
    view: Arc<RenderedView>,
}

/// The kept views and the write generation that invalidates them.
#[derive(Default)]
pub struct ViewCache {
    generation: AtomicU64,
    views: Mutex<HashMap<u64, Entry>>,
    hasher: std::collections::hash_map::RandomState,
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

    fn subject_text(subject: Subject<'_>) -> &str {
        match subject {
            Subject::Collaboration(id) => id,
            // No collaboration id has a space in it.
            Subject::Me => "me ",
        }
    }

    /// The key: a hash of the subject and the whole caller (no allocation on a read).
    fn key(&self, subject: &str, actor: &Actor) -> u64 {
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut h = self.hasher.build_hasher();
        subject.hash(&mut h);
        actor.hash(&mut h);
        h.finish()
    }

    /// The view kept for this caller, if it is still good at `now`.
    pub fn get(
        &self,
        subject: Subject<'_>,
        actor: &Actor,
        now: DateTime<Utc>,
        today: NaiveDate,
    ) -> Option<Arc<RenderedView>> {
        let subject = Self::subject_text(subject);
        let key = self.key(subject, actor);
        let generation = self.generation();
        let views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        let e = views.get(&key)?;
        let age = (now - e.built_at).num_milliseconds();
        (e.subject == subject
            && e.actor == *actor
            && e.generation == generation
            && e.today == today
            && (0..VIEW_TTL_MS).contains(&age))
        .then(|| e.view.clone())
    }

    /// Keeps a view built under `generation` (read before the build began).
    #[allow(clippy::too_many_arguments)]
    pub fn put(
        &self,
        subject: Subject<'_>,
        actor: &Actor,
        generation: u64,
        now: DateTime<Utc>,
        today: NaiveDate,
        view: Arc<RenderedView>,
    ) {
        let subject = Self::subject_text(subject);
        let key = self.key(subject, actor);
        let mut views = self.views.lock().unwrap_or_else(|p| p.into_inner());
        if views.len() >= VIEW_CAPACITY {
            views.clear();
        }
        views.insert(
            key,
            Entry {
                subject: subject.to_string(),
                actor: actor.clone(),
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
    fn a_view_is_kept_for_its_subject_caller_generation_day_and_lifetime() {
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
        let c = Subject::Collaboration("c");
        cache.put(c, &me, g, now, today, view);
        let young = now + chrono::Duration::milliseconds(VIEW_TTL_MS - 1);
        assert_eq!(cache.get(c, &me, young, today).map(|v| v.version), Some(3));
        // Another subject, another caller, another day, too old: rebuilt.
        assert!(cache
            .get(Subject::Collaboration("d"), &me, now, today)
            .is_none());
        assert!(cache.get(Subject::Me, &me, now, today).is_none());
        assert!(cache
            .get(c, &actor(Role::Administrator), now, today)
            .is_none());
        let tomorrow = today.succ_opt().unwrap();
        assert!(cache.get(c, &me, now, tomorrow).is_none());
        let later = now + chrono::Duration::milliseconds(VIEW_TTL_MS);
        assert!(cache.get(c, &me, later, today).is_none());
        // A clock that went back does not make an old view young.
        let earlier = now - chrono::Duration::milliseconds(1);
        assert!(cache.get(c, &me, earlier, today).is_none());
        // Any write forgets it.
        cache.invalidate();
        assert!(cache.get(c, &me, now, today).is_none());
    }

    #[test]
    fn a_view_built_while_a_write_committed_is_not_served() {
        let cache = ViewCache::default();
        let now = DateTime::parse_from_rfc3339("2026-09-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let me = actor(Role::CompanyRepresentative);
        // The generation is read before the build; a write commits meanwhile.
        let g = cache.generation();
        cache.invalidate();
        let view = Arc::new(RenderedView {
            version: 0,
            body: b"{}".to_vec(),
        });
        cache.put(Subject::Me, &me, g, now, now.date_naive(), view.clone());
        assert!(cache.get(Subject::Me, &me, now, now.date_naive()).is_none());
        // Built after it: served.
        cache.put(
            Subject::Me,
            &me,
            cache.generation(),
            now,
            now.date_naive(),
            view,
        );
        assert!(cache.get(Subject::Me, &me, now, now.date_naive()).is_some());
    }
}
