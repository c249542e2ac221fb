use super::*;

const SHIPPED: &str = include_str!("../../../config/rulebook/2026-07-01.toml");

#[test]
fn shipped_rulebook_passes_check() {
    match Rulebook::parse_with_report("2026-07-01.toml", SHIPPED) {
        Ok((rb, report)) => {
            assert_eq!(rb.version, "2026.1");
            println!("{report:?}");
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            panic!("{} errors", errors.len());
        }
    }
}
