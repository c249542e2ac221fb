//! Internal notes (interna anteckningar): seen only inside the organisation that wrote them.
use super::Context;
use crate::domain::collaboration::{Collaboration, InternalNote};

pub(super) fn apply(n: &mut Collaboration, text: String, ctx: &Context) {
    n.internal_notes.push(InternalNote {
        org: ctx.actor.org.clone(),
        written_at: ctx.now,
        author: ctx.actor.account.clone(),
        text,
    });
}
