//! The key file's deletion (kodnyckel raderad). Seed 000, "Hur och vilka data lämnas ut?": the CPUA keeps
//! the key about three months after the release; "efter att nyckelfilen raderats så går det inte att göra
//! några ändringar eller tillägg". The CPUA records the deletion on its own track; until then the
//! key-file deadline stays open.
use chrono::NaiveDate;

use super::{not_in_future, Context, Refusal, SEED_000};
use crate::domain::collaboration::Collaboration;
use crate::domain::ids::OrgId;

const HOW: &str = "Hur och vilka data lämnas ut?";

pub(super) fn guard(c: &Collaboration, track: Option<&OrgId>) -> Result<(), Refusal> {
    let open = |r: &crate::domain::collaboration::CpuaReview| {
        r.release
            .as_ref()
            .is_some_and(|x| x.key_deleted_on.is_none())
    };
    match track.map(|o| c.review(o)) {
        Some(Some(r)) if open(r) => Ok(()),
        Some(Some(r)) => Err(match r.release.as_ref().and_then(|x| x.key_deleted_on) {
            Some(on) => Refusal::precondition(crate::msg!("key_file.already_deleted", date = on)),
            None => Refusal::precondition(crate::msg!(
                "key_file.not_released",
                cpua_name = &r.cpua_name
            ))
            .source(SEED_000, HOW)
            .missing(["data_release"]),
        }),
        Some(None) => Err(Refusal::invalid(
            "cpua",
            crate::msg!("not_a_cpua_of_collaboration.no_application"),
        )),
        None if c.cpua_reviews.iter().any(open) => Ok(()),
        None => Err(Refusal::precondition(crate::msg!("key_file.none_open"))
            .source(SEED_000, HOW)
            .missing(["data_release"])),
    }
}

pub(super) fn apply(
    n: &mut Collaboration,
    cpua: &OrgId,
    deleted_on: NaiveDate,
    ctx: &Context,
) -> Result<(), Refusal> {
    not_in_future("deleted_on", deleted_on, ctx.today)?;
    let Some(rel) = n.review_mut(cpua).and_then(|r| r.release.as_mut()) else {
        return Err(Refusal::invalid(
            "cpua",
            crate::msg!("not_a_cpua_of_collaboration.no_application"),
        ));
    };
    if deleted_on < rel.released_on {
        return Err(Refusal::invalid(
            "deleted_on",
            crate::msg!("key_file.before_release", released_on = rel.released_on),
        )
        .source(SEED_000, HOW));
    }
    rel.key_deleted_on = Some(deleted_on);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::super::{events_between, Command, DomainEvent};

    #[test]
    fn the_key_file_is_recorded_deleted_once_after_the_release() {
        // Seed 000, "Hur och vilka data lämnas ut?": the CPUA keeps the key file and then deletes it.
        let k = Kit::new();
        let agreed = k.walk_to_agreement_recorded(Scenario::public_research());
        let cpua = agreed.cpua_reviews[0].cpua.clone();
        let del = |on| Command::RecordKeyFileDeleted {
            cpua: cpua.clone(),
            deleted_on: on,
        };
        let r = k.run(&agreed, del(k.today())).unwrap_err();
        assert_eq!(r.rule, "key_file");
        let released = k.release(&agreed, &cpua);
        let future = k.today().succ_opt().unwrap();
        assert_eq!(
            k.run(&released, del(future)).unwrap_err().field.as_deref(),
            Some("deleted_on")
        );
        let done = k.run(&released, del(k.today())).unwrap();
        assert!(matches!(
            &events_between(&released, &done)[..],
            [DomainEvent::KeyFileDeleted { .. }]
        ));
        assert_eq!(k.run(&done, del(k.today())).unwrap_err().rule, "key_file");
    }
}
