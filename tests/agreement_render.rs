use samverkan::domain::lang::Lang;
use samverkan::render::{self, Format};

#[test]
fn scratch() {
    for f in Format::ALL {
        let b = render::render_example("three-party", Lang::Sv, f).unwrap();
        std::fs::write(format!("/tmp/ex.{}", f.extension()), b).unwrap();
    }
}
