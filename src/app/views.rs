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
//! and [`VIEW_BYTES`] bytes of them are kept: a write empties the cache (nothing built before it is
//! served again), and when it is full the views past their lifetime go first, then all of them.
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::domain::role::Actor;

/// How long a kept view is served without being rebuilt, in milliseconds of the injected clock.
pub const VIEW_TTL_MS: i64 = 2_000;

/// How many views are kept at most.
pub const VIEW_CAPACITY: usize = 10_000;

/// How many bytes of views are kept at most (a collaboration's view is about 10 KB): the bound on
/// the memory the cache holds, whatever the callers read (issue 10: RSS under 150 MB).
pub const VIEW_BYTES: usize = 16 * 1024 * 1024;

/// What a view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    /// One collaboration, by the id as the caller wrote it.
    Collaboration(&'a str),
    /// The caller's own account and roles (`GET /api/v1/me`).
    Me,
}

/// A view as sent: the version (for the ETag; 0 where the subject has none) and the JSON body,
/// shared by every response that sends it (a clone counts a reference, it copies nothing).
#[derive(Debug)]
pub struct RenderedView {
    pub version: i64,
    pub body: bytes::Bytes,
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

/// The kept views, the generation they were built under and the bytes they hold.
#[derive(Default)]
struct Kept {
    /// The newest generation a view was kept under: every entry is of it.
    generation: u64,
    bytes: usize,
    entries: HashMap<u64, Entry>,
}

/// The kept views and the write generation that invalidates them.
#[derive(Default)]
pub struct ViewCache {
    generation: AtomicU64,
    views: Mutex<Kept>,
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
        let e = views.entries.get(&key)?;
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
        let size = view.body.len() + subject.len();
        let mut kept = self.views.lock().unwrap_or_else(|p| p.into_inner());
        if generation < kept.generation || generation != self.generation() || size > VIEW_BYTES {
            // Built before a write committed (it would never be served), or too big to keep.
            return;
        }
        if generation > kept.generation {
            // A write: nothing kept before it is served again.
            *kept = Kept {
                generation,
                ..Kept::default()
            };
        }
        if let Some(old) = kept.entries.remove(&key) {
            kept.bytes -= old.view.body.len() + old.subject.len();
        }
        if kept.entries.len() >= VIEW_CAPACITY || kept.bytes + size > VIEW_BYTES {
            kept.entries
                .retain(|_, e| (0..VIEW_TTL_MS).contains(&(now - e.built_at).num_milliseconds()));
            kept.bytes = kept
                .entries
                .values()
                .map(|e| e.view.body.len() + e.subject.len())
                .sum();
            if kept.entries.len() >= VIEW_CAPACITY || kept.bytes + size > VIEW_BYTES {
                kept.entries.clear();
                kept.bytes = 0;
            }
        }
        kept.bytes += size;
        kept.entries.insert(
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

    /// How many views are kept, and their bytes.
    #[cfg(test)]
    fn held(&self) -> (usize, usize) {
        let kept = self.views.lock().unwrap_or_else(|p| p.into_inner());
        (kept.entries.len(), kept.bytes)
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

    /// An empty cache, a moment, its day and a company representative.
    fn fixture() -> (ViewCache, DateTime<Utc>, NaiveDate, Actor) {
        let now = DateTime::parse_from_rfc3339("2026-09-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let me = actor(Role::CompanyRepresentative);
        (ViewCache::default(), now, now.date_naive(), me)
    }

    #[test]
    fn a_view_is_kept_for_its_subject_caller_generation_day_and_lifetime() {
        let (cache, now, today, me) = fixture();
        let g = cache.generation();
        let view = Arc::new(RenderedView {
            version: 3,
            body: bytes::Bytes::from_static(b"{}"),
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
        let (cache, now, _, me) = fixture();
        // The generation is read before the build; a write commits meanwhile.
        let g = cache.generation();
        cache.invalidate();
        let view = Arc::new(RenderedView {
            version: 0,
            body: bytes::Bytes::from_static(b"{}"),
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

    #[test]
    fn the_cache_holds_a_bounded_number_of_bytes_and_a_write_empties_it() {
        let (cache, now, today, me) = fixture();
        let big = |n: usize| {
            Arc::new(RenderedView {
                version: 1,
                body: bytes::Bytes::from(vec![b' '; n]),
            })
        };
        let mb = 1024 * 1024;
        let ids: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
        // Old views, past their lifetime, go first when the cache is full.
        let old = now - chrono::Duration::milliseconds(VIEW_TTL_MS);
        for id in &ids[..10] {
            cache.put(Subject::Collaboration(id), &me, 0, old, today, big(mb));
        }
        for id in &ids[10..] {
            cache.put(Subject::Collaboration(id), &me, 0, now, today, big(mb));
            let (_, bytes) = cache.held();
            assert!(bytes <= VIEW_BYTES, "{bytes}");
        }
        let last = Subject::Collaboration(&ids[39]);
        assert!(cache.get(last, &me, now, today).is_some());
        let (n, bytes) = cache.held();
        assert!(n > 0 && n <= VIEW_BYTES / mb, "{n}");
        assert!(bytes >= n * mb && bytes <= VIEW_BYTES, "{bytes}");
        // Putting the same view again does not count it twice.
        cache.put(last, &me, 0, now, today, big(mb));
        assert_eq!(cache.held().0, n);
        // A view bigger than the whole budget is not kept.
        cache.put(Subject::Me, &me, 0, now, today, big(VIEW_BYTES + 1));
        assert!(cache.get(Subject::Me, &me, now, today).is_none());
        // The first put after a write empties what was kept before it.
        cache.invalidate();
        cache.put(Subject::Me, &me, 1, now, today, big(10));
        assert_eq!(cache.held(), (1, 10 + "me ".len()));
        // One built before that write is not kept at all.
        cache.put(last, &me, 0, now, today, big(10));
        assert_eq!(cache.held().0, 1);
    }

    #[test]
    fn a_full_cache_keeps_the_views_still_in_their_lifetime() {
        let (cache, now, today, me) = fixture();
        let small = || {
            Arc::new(RenderedView {
                version: 1,
                body: bytes::Bytes::from_static(b"{}"),
            })
        };
        let old = now - chrono::Duration::milliseconds(VIEW_TTL_MS);
        for i in 0..VIEW_CAPACITY - 1 {
            let id = format!("old{i}");
            cache.put(Subject::Collaboration(&id), &me, 0, old, today, small());
        }
        cache.put(Subject::Collaboration("young"), &me, 0, now, today, small());
        assert_eq!(cache.held().0, VIEW_CAPACITY);
        // Full: the old ones go, the young one stays.
        cache.put(Subject::Collaboration("new"), &me, 0, now, today, small());
        assert_eq!(cache.held().0, 2);
        assert!(cache
            .get(Subject::Collaboration("young"), &me, now, today)
            .is_some());
    }
}
